package modelfile

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

func sample() *File {
	return &File{Kind: "gnn", Header: []byte(`{"arch":"gcn"}`), Tensors: []Tensor{
		{Name: "layer0.weight", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "layer0.bias", Shape: []int{1, 2}, Data: []float32{-1, 0.5}},
		{Name: "norm0.running_mean", Shape: []int{2}, Data: []float32{0, 0}},
	}}
}

func TestRoundTrip(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	if f.Kind != want.Kind || !bytes.Equal(f.Header, want.Header) || len(f.Tensors) != len(want.Tensors) {
		t.Fatalf("decoded %+v", f)
	}
	for i, tt := range f.Tensors {
		w := want.Tensors[i]
		if tt.Name != w.Name || !slices.Equal(tt.Shape, w.Shape) || !slices.Equal(tt.Data, w.Data) {
			t.Errorf("tensor %d: %+v, want %+v", i, tt, w)
		}
	}
	p := filepath.Join(t.TempDir(), "m.gnsr")
	if err := Write(p, sample()); err != nil {
		t.Fatal(err)
	}
	if g, err := Read(p); err != nil || len(g.Tensors) != 3 {
		t.Errorf("Read: %v, %v", g, err)
	}
}

// TestDecodeRejects covers files that lie: every damaged copy of a valid
// file is an error wrapping ErrFormat.
func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(sample())
	cases := map[string][]byte{"empty": nil, "magic": append([]byte("GNSRCKPT"), good[8:]...)}
	for _, n := range []int{len(good) - 1, len(good) / 2, 12} {
		cases["truncated"+string(rune('a'+n%26))] = good[:n]
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	cases["bit flip"] = flipped
	future := bytes.Clone(good)
	future[8] = 9
	cases["future version"] = future
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", name, err)
		}
	}
	for _, bad := range []*File{
		{Kind: "gnn", Header: []byte("{"), Tensors: nil},
		{Kind: "", Header: []byte("{}")},
		{Kind: "gnn", Header: []byte("{}"), Tensors: []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1}}}},
		{Kind: "gnn", Header: []byte("{}"), Tensors: []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}},
	} {
		if _, err := Encode(bad); err == nil {
			t.Errorf("Encode(%+v): no error", bad)
		}
	}
}

// FuzzDecode checks that Decode never panics and that what it accepts
// encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	good, _ := Encode(sample())
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		again, err := Encode(m)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
	})
}

// TestFloat64Tensor round-trips float64 values, NaN payloads, infinities
// and negative zero included, through a file.
func TestFloat64Tensor(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1.0 / 3, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1),
		math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000123)}
	b, err := Encode(&File{Kind: "ckpt", Header: []byte("{}"), Tensors: []Tensor{Float64Tensor("x", vals), Float64Tensor("empty", nil)}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Tensors[0].Float64s()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if math.Float64bits(got[i]) != math.Float64bits(v) {
			t.Errorf("value %d: %x, want %x", i, math.Float64bits(got[i]), math.Float64bits(v))
		}
	}
	if e, err := f.Tensors[1].Float64s(); err != nil || len(e) != 0 {
		t.Errorf("empty: %v, %v", e, err)
	}
	if _, err := sample().Tensors[2].Float64s(); err == nil {
		t.Error("a vector of 2 read as float64 values")
	}
}
