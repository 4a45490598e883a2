package discover

import (
	"runtime"
	"sync"
	"unsafe"
)

// A zone's name table is large (a TLD holds millions of names) and
// pointer-free. Kept in the Go heap, it would make the collector let the
// heap grow to twice its size between cycles while the zone parser's
// short-lived garbage piles up; kept in anonymous memory mappings outside
// the heap, the heap stays small, the collector has nothing to scan there,
// and the process needs little more than the table itself. The mappings are
// released by zoneData.free, or by a cleanup if a zone is dropped without it.

// offHeapMin is the size below which a slice stays in the Go heap: small
// zones are the common case and do not need mappings.
const offHeapMin = 256 << 10

// mappings holds the live mappings of one zone, so they can all be released
// at once.
type mappings struct {
	mu   sync.Mutex
	live map[unsafe.Pointer][]byte
}

func (m *mappings) add(b []byte) {
	m.mu.Lock()
	if m.live == nil {
		m.live = map[unsafe.Pointer][]byte{}
	}
	m.live[unsafe.Pointer(unsafe.SliceData(b))] = b
	m.mu.Unlock()
}

func (m *mappings) release(p unsafe.Pointer) {
	m.mu.Lock()
	b, ok := m.live[p]
	delete(m.live, p)
	m.mu.Unlock()
	if ok {
		unmapMemory(b)
	}
}

func (m *mappings) releaseAll() {
	m.mu.Lock()
	live := m.live
	m.live = nil
	m.mu.Unlock()
	for _, b := range live {
		unmapMemory(b)
	}
}

// bigSlice is an append-only slice of a pointer-free type that moves out of
// the Go heap once it is large. T must hold no pointers.
type bigSlice[T any] struct {
	s      []T
	mapped bool
	m      *mappings
}

func (b *bigSlice[T]) grow(extra int) {
	need := len(b.s) + extra
	if need <= cap(b.s) {
		return
	}
	newCap := max(2*cap(b.s), need, 16)
	var zero T
	size := uintptr(newCap) * unsafe.Sizeof(zero)
	if size >= offHeapMin {
		// Untouched pages of a mapping cost no memory, so reserve ahead
		// and copy less often.
		newCap = max(4*cap(b.s), need)
		size = uintptr(newCap) * unsafe.Sizeof(zero)
	}
	if size < offHeapMin || b.m == nil {
		s := make([]T, len(b.s), newCap)
		copy(s, b.s)
		b.s = s
		return
	}
	mem := mapMemory(int(size))
	if mem == nil { // no mappings on this system, or none left: use the heap
		s := make([]T, len(b.s), newCap)
		copy(s, b.s)
		b.release()
		b.s, b.mapped = s, false
		return
	}
	s := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(mem))), newCap)[:len(b.s)]
	copy(s, b.s)
	b.release()
	b.m.add(mem)
	b.s, b.mapped = s, true
}

func (b *bigSlice[T]) append(v ...T) {
	b.grow(len(v))
	b.s = append(b.s, v...)
}

// push appends one value without append's copy call.
func (b *bigSlice[T]) push(v T) {
	n := len(b.s)
	if n == cap(b.s) {
		b.grow(1)
	}
	b.s = b.s[:n+1]
	b.s[n] = v
}

func (b *bigSlice[T]) release() {
	if b.mapped && cap(b.s) > 0 {
		b.m.release(unsafe.Pointer(unsafe.SliceData(b.s)))
	}
	b.s, b.mapped = nil, false
}

// makeBig returns a bigSlice of n zero values.
func makeBig[T any](m *mappings, n int) bigSlice[T] {
	b := bigSlice[T]{m: m}
	b.grow(n)
	b.s = b.s[:n]
	clear(b.s)
	return b
}

// guardMappings makes sure the mappings of owner are released when owner
// is garbage collected, even if free was never called.
func guardMappings[T any](owner *T, m *mappings) {
	runtime.AddCleanup(owner, func(m *mappings) { m.releaseAll() }, m)
}
