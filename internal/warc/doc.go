// Package warc writes and reads WARC 1.1 files.
package warc
