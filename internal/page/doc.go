// Package page turns fetched HTML and CSS into what crawl needs from them.
package page
