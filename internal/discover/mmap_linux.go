package discover

import "syscall"

// mapMemory returns size bytes of zeroed anonymous memory outside the Go
// heap, or nil if the system will not give it.
func mapMemory(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE|mapNoReserve)
	if err != nil {
		return nil
	}
	return b
}

// mapNoReserve: the mappings reserve ahead; pages count when touched.
const mapNoReserve = syscall.MAP_NORESERVE

func unmapMemory(b []byte) { syscall.Munmap(b) }
