package datasets

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// npyFile encodes a .npy v1 file with the given header fields and raw data,
// padding the header to 64 bytes as numpy does.
func npyFile(descr string, shape []int, raw []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	return npyWithHeader(fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple), raw)
}

// npyWithHeader encodes a .npy v1 file with a literal header dict.
func npyWithHeader(dict string, raw []byte) []byte {
	h := dict
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(raw)
	return b.Bytes()
}

func i32s(xs ...int) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(x)))
	}
	return b
}

func i64s(xs ...int) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func f32s(xs ...float32) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// unicodeArray encodes strings as numpy's <U<width> data.
func unicodeArray(width int, ss ...string) []byte {
	var b []byte
	for _, s := range ss {
		rs := []rune(s)
		for i := 0; i < width; i++ {
			var r rune
			if i < len(rs) {
				r = rs[i]
			}
			b = binary.LittleEndian.AppendUint32(b, uint32(r))
		}
	}
	return b
}

// npzMember is one file of an npz archive.
type npzMember struct {
	name string
	data []byte
}

// zipMembers builds a zip archive, storing or deflating the members.
func zipMembers(members []npzMember, deflate bool) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, m := range members {
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			panic(err)
		}
		f.Write(m.data)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// synthNPZ is a small dataset in the gnn-benchmark layout: 6 nodes, 4
// features, 2 classes.
type synthNPZ struct{ arrays map[string][]byte }

// synthOrder is the member order numpy.savez writes for gnn-benchmark files.
var synthOrder = []string{"adj_data", "adj_indices", "adj_indptr", "adj_shape",
	"attr_data", "attr_indices", "attr_indptr", "attr_shape", "labels", "class_names"}

func newSynthNPZ() *synthNPZ {
	// Adjacency (directed): 0→1, 1→0 (a reciprocal pair), 2→1, 3→3 (a
	// self-loop), 4→5, 5→2, 0→4. Node 3 has only its self-loop: isolated.
	adjIndptr := []int{0, 2, 3, 4, 5, 6, 7}
	adjIndices := []int{1, 4, 0, 1, 3, 5, 2}
	// Features, unsorted, with a repeated column in row 2 (1+2 = 3).
	attrIndptr := []int{0, 2, 2, 5, 6, 7, 8}
	attrIndices := []int{3, 0, 1, 2, 1, 3, 0, 2}
	attrData := []float32{1, 1, 1, 1, 2, 1, 1, 1}
	return &synthNPZ{arrays: map[string][]byte{
		"adj_data":     npyFile("<f4", []int{7}, f32s(1, 1, 1, 1, 1, 1, 1)),
		"adj_indices":  npyFile("<i4", []int{7}, i32s(adjIndices...)),
		"adj_indptr":   npyFile("<i4", []int{7}, i32s(adjIndptr...)),
		"adj_shape":    npyFile("<i8", []int{2}, i64s(6, 6)),
		"attr_data":    npyFile("<f4", []int{8}, f32s(attrData...)),
		"attr_indices": npyFile("<i4", []int{8}, i32s(attrIndices...)),
		"attr_indptr":  npyFile("<i4", []int{7}, i32s(attrIndptr...)),
		"attr_shape":   npyFile("<i8", []int{2}, i64s(6, 4)),
		"labels":       npyFile("<i8", []int{6}, i64s(0, 1, 1, 0, 1, 0)),
		"class_names":  npyFile("<U6", []int{2}, unicodeArray(6, "Cams", "Lenses")),
	}}
}

// bytes returns the archive, with arrays replaced (nil deletes).
func (s *synthNPZ) bytes(deflate bool, replace map[string][]byte) []byte {
	var ms []npzMember
	for _, k := range synthOrder {
		data := s.arrays[k]
		if r, ok := replace[k]; ok {
			data = r
		}
		if data != nil {
			ms = append(ms, npzMember{k + ".npy", data})
		}
	}
	return zipMembers(ms, deflate)
}
