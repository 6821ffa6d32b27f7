package vision

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// goldenParams reads the parameter counts of torch's models from the golden
// file of package nn (made by nn/testdata/golden_cnn.py).
func goldenParams(t *testing.T) map[string]int {
	t.Helper()
	raw, err := os.ReadFile("../nn/testdata/golden_cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Params map[string]int }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Params
}

// TestGoldenParamCounts compares CNNParamCount with torch's counts of the
// same models, and with the size of the weights NewCNNWeights makes.
func TestGoldenParamCounts(t *testing.T) {
	params := goldenParams(t)
	want := map[string]int{"vgg19": 20040522, "resnet18": 11173962, "cnn": 113962, "cnn_width2": 412234}
	for name, n := range want {
		if params[name] != n {
			t.Errorf("golden file: %s has %d parameters, want %d", name, params[name], n)
		}
		spec := CNNSpec{Arch: name, Width: 1}
		if a, ok := strings.CutSuffix(name, "_width2"); ok {
			spec = CNNSpec{Arch: a, Width: 2}
		}
		got, err := CNNParamCount(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("CNNParamCount(%+v) = %d, torch counts %d", spec, got, n)
		}
	}
}
