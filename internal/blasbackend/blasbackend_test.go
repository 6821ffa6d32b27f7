package blasbackend

import "testing"

func TestName(t *testing.T) {
	if n := Name(); n != Backend || (n != "gonum pure Go" && n != "openblas") {
		t.Fatalf("Name() = %q, Backend = %q", n, Backend)
	}
}
