// Package bytesize writes byte counts for people, the one way crawl's
// tables (`crawl hosts`, the summaries) and the pages of `crawl serve`
// show them: "512 B", "57.1 KiB", "21.9 MiB".
package bytesize

import "fmt"

// Format writes n in the largest binary unit (KiB, MiB, ... EiB) it
// reaches, to one decimal; below 1 KiB, in bytes.
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
