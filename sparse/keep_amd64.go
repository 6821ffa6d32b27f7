//go:build amd64 && !purego

package sparse

import "unsafe"

// keepGroups8 filters groups·8 consecutive entries (indices idx, values
// data) as keepRange does, the first entry's Weyl state being z, in AVX2:
// it writes the kept indices to keptIdx and, unless uniform, the kept
// values times scale to keptData, and returns how many it kept. Each group
// stores 8 lanes at the next free position, so the outputs must have room
// for 8 past the last kept entry of a group: keepRange's rows do, since
// an entry is never written after its own position. perm[m] lists the set
// bits of m.
//
//go:noescape
func keepGroups8(keptIdx *int32, keptData *float32, idx *int32, data *float32, groups int, z uint64, thresh int64, scale float32, perm *[256][8]int32, uniform bool) int

// keepPerm is the permutation table of keepGroups8: keepPerm[m] holds the
// positions of the set bits of m, in increasing order. Read only.
var keepPerm = func() *[256][8]int32 {
	var t [256][8]int32
	for m := range t {
		n := 0
		for b := range 8 {
			if m&(1<<b) != 0 {
				t[m][n] = int32(b)
				n++
			}
		}
	}
	return &t
}()

// keepSIMD filters the first entries of idx and data in groups of 8 with
// keepGroups8 (see keepRange), writing at keptIdx[n:] and keptData[n:], and
// returns the new count, the state after them and how many it took.
func keepSIMD(keptIdx []int32, keptData []float32, n int, idx []int32, data []float32, z uint64, thresh int64, scale float32, uniform bool) (int, uint64, int) {
	groups := len(idx) / 8
	if !useSIMD || groups == 0 {
		return n, z, 0
	}
	_ = keptIdx[n+8*groups-1]
	_ = keptData[n+8*groups-1]
	_ = data[8*groups-1]
	n += keepGroups8(unsafe.SliceData(keptIdx[n:]), unsafe.SliceData(keptData[n:]), unsafe.SliceData(idx), unsafe.SliceData(data),
		groups, z, thresh, scale, keepPerm, uniform)
	return n, z + uint64(8*groups)*weyl, 8 * groups
}
