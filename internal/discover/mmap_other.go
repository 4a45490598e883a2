//go:build !linux

package discover

// Without mappings every slice stays in the Go heap.
func mapMemory(int) []byte { return nil }

func unmapMemory([]byte) {}
