package discover

import (
	"bytes"
	"hash/maphash"
	"unsafe"
)

// nameTable interns a zone's owner names. A TLD zone has millions of names
// that must all stay in memory until the zone is complete, so the table
// holds no pointers: the bytes of every name live in one arena, and an
// open-addressing hash table (linear probing) holds name ids with 32 bits
// of their hash, so a probe only reads the arena (a likely cache miss) when
// the hash bits match, and lookups stay exact. Compared with a
// map[string]uint32 this takes about a third of the memory per name and
// leaves the garbage collector nothing to scan.
type nameTable struct {
	seed  maphash.Seed
	slots bigSlice[uint64] // hash<<32 | id+1, 0 = empty; len is a power of two
	arena bigSlice[byte]
	offs  bigSlice[uint32] // start of name id in arena; it ends where the next one starts
}

func newNameTable(m *mappings) nameTable {
	return nameTable{seed: maphash.MakeSeed(), slots: makeBig[uint64](m, 64),
		arena: bigSlice[byte]{m: m}, offs: bigSlice[uint32]{m: m}}
}

// bytes returns name id; the slice aliases the arena and must not be kept
// across an intern.
func (t *nameTable) bytes(id uint32) []byte {
	end := uint32(len(t.arena.s))
	if int(id)+1 < len(t.offs.s) {
		end = t.offs.s[id+1]
	}
	return t.arena.s[t.offs.s[id]:end]
}

func (t *nameTable) str(id uint32) string { return string(t.bytes(id)) }

// find returns the slot where name is, or the empty slot where it would go.
func (t *nameTable) find(name []byte, h uint64) int {
	slots := t.slots.s
	mask := uint64(len(slots) - 1)
	fp := h &^ 0xffffffff
	for i := h & mask; ; i = (i + 1) & mask {
		s := slots[i]
		if s == 0 || s&^0xffffffff == fp && bytes.Equal(t.bytes(uint32(s)-1), name) {
			return int(i)
		}
	}
}

func (t *nameTable) lookupBytes(name []byte) (uint32, bool) {
	s := t.slots.s[t.find(name, maphash.Bytes(t.seed, name))]
	return uint32(s) - 1, s != 0
}

func (t *nameTable) lookup(name string) (uint32, bool) {
	return t.lookupBytes(unsafeBytes(name))
}

// intern returns the id of name, adding it if it is new.
func (t *nameTable) intern(name string) (id uint32, added bool) {
	b := unsafeBytes(name)
	h := maphash.Bytes(t.seed, b)
	i := t.find(b, h)
	if s := t.slots.s[i]; s != 0 {
		return uint32(s) - 1, false
	}
	id = uint32(len(t.offs.s))
	t.offs.push(uint32(len(t.arena.s)))
	t.arena.append(b...)
	t.slots.s[i] = h&^0xffffffff | uint64(id+1)
	if len(t.offs.s)*2 > len(t.slots.s) { // load factor 1/2: short probe runs
		t.grow()
	}
	return id, true
}

func (t *nameTable) grow() {
	old := t.slots
	t.slots = makeBig[uint64](old.m, len(old.s)*2)
	slots := t.slots.s
	mask := uint64(len(slots) - 1)
	for _, s := range old.s {
		if s == 0 {
			continue
		}
		i := maphash.Bytes(t.seed, t.bytes(uint32(s)-1)) & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	old.release()
}

// unsafeBytes views a string's bytes without copying; the result is only
// read, never kept.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// parentOf returns the offset of the next label in name (after the first
// unescaped dot), or -1 at the root.
func parentOf(name []byte, off int) int {
	for i := off; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '.':
			if i+1 >= len(name) {
				return -1
			}
			return i + 1
		}
	}
	return -1
}
