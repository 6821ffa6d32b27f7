// Package k8s_test checks the Kubernetes manifests and the container build
// of deploy/k8s: that they parse, name the image the Dockerfile builds, run
// Indexed Jobs whose index gnsr's --shard auto reads, and give gnsr flags it
// accepts.
package k8s_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/bench"
	"gopkg.in/yaml.v3"
)

// The parts of a manifest the tests read.
type (
	manifest struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec jobSpec `yaml:"spec"`
	}
	jobSpec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    *int   `yaml:"completions"`
		Parallelism    *int   `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				RestartPolicy string      `yaml:"restartPolicy"`
				Containers    []container `yaml:"containers"`
				Volumes       []struct {
					Name string `yaml:"name"`
					PVC  *struct {
						ClaimName string `yaml:"claimName"`
						ReadOnly  bool   `yaml:"readOnly"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	}
	container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
		Env     []struct {
			Name      string         `yaml:"name"`
			Value     *string        `yaml:"value"`
			ValueFrom map[string]any `yaml:"valueFrom"`
		} `yaml:"env"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	}
)

// manifests returns every document of every YAML file here, by file.
func manifests(t *testing.T) map[string][]manifest {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests (%v)", err)
	}
	out := map[string][]manifest{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var m manifest
			if err := n.Decode(&m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
				t.Errorf("%s: a document without apiVersion, kind or name: %+v", f, m)
			}
			out[f] = append(out[f], m)
		}
	}
	return out
}

// dockerImage returns the image the Dockerfile's documented build command
// tags.
func dockerImage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#\s+docker build -f deploy/k8s/Dockerfile -t (\S+) \.$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Dockerfile does not document its build command (docker build -f deploy/k8s/Dockerfile -t IMAGE .)")
	}
	for _, w := range []string{"CGO_ENABLED=0 go build", "FROM gcr.io/distroless/static", `ENTRYPOINT ["/gnsr"]`, "USER 65532"} {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("the Dockerfile lacks %q", w)
		}
	}
	return string(m[1])
}

// envOf returns a container's literal environment.
func envOf(c container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.Value != nil {
			env[e.Name] = *e.Value
		}
	}
	return env
}

// flagValue returns the value after flag in args, or "".
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// TestManifests checks every Job: the image, the Indexed Jobs' shards as
// --shard auto reads them from each index, the data mounted read-only where
// GNSR_DATA points, the results on a writable volume where --out points,
// and the two phases of the GNN table with the same flags.
func TestManifests(t *testing.T) {
	image := dockerImage(t)
	jobs := 0
	args := map[string][]string{}
	for file, docs := range manifests(t) {
		for _, m := range docs {
			if m.Kind != "Job" {
				continue
			}
			jobs++
			name := file + ": " + m.Metadata.Name
			spec := m.Spec.Template.Spec
			if m.APIVersion != "batch/v1" || len(spec.Containers) != 1 {
				t.Fatalf("%s: apiVersion %s, %d containers", name, m.APIVersion, len(spec.Containers))
			}
			c := spec.Containers[0]
			if c.Image != image {
				t.Errorf("%s: image %q, but the Dockerfile builds %q", name, c.Image, image)
			}
			if len(c.Command) > 0 {
				t.Errorf("%s: a command %v replaces the image's entrypoint, /gnsr", name, c.Command)
			}
			args[m.Metadata.Name] = c.Args
			env := envOf(c)
			mounts := map[string]string{} // mount path → volume
			for _, vm := range c.VolumeMounts {
				mounts[vm.MountPath] = vm.Name
				for _, v := range spec.Volumes {
					if v.Name == vm.Name && v.PVC != nil && vm.MountPath == env["GNSR_DATA"] && (!vm.ReadOnly || !v.PVC.ReadOnly) {
						t.Errorf("%s: the data volume %s is not mounted read-only", name, v.Name)
					}
				}
			}
			if d := env["GNSR_DATA"]; d != "" && mounts[d] == "" {
				t.Errorf("%s: GNSR_DATA=%s is not a mount", name, d)
			}
			if out := flagValue(c.Args, "--out"); out == "" || mounts[filepath.Dir(out)] == "" {
				t.Errorf("%s: --out %q is not on a mounted volume", name, out)
			}
			if m.Spec.CompletionMode != "Indexed" {
				continue
			}
			n := m.Spec.Completions
			if n == nil || *n < 1 || m.Spec.Parallelism == nil || *m.Spec.Parallelism > *n {
				t.Fatalf("%s: completions and parallelism must be set, 1 <= parallelism <= completions", name)
			}
			if flagValue(c.Args, "--shard") != "auto" {
				t.Errorf("%s: args %v lack --shard auto", name, c.Args)
			}
			if env[bench.EnvShardCount] != strconv.Itoa(*n) {
				t.Errorf("%s: %s=%q, but completions is %d", name, bench.EnvShardCount, env[bench.EnvShardCount], *n)
			}
			if spec.RestartPolicy != "OnFailure" {
				t.Errorf("%s: restartPolicy %q: a failed shard should restart and resume", name, spec.RestartPolicy)
			}
			// Each pod: Kubernetes sets JOB_COMPLETION_INDEX beside the
			// container's environment.
			for i := range *n {
				getenv := func(k string) string {
					if k == bench.EnvJobCompletionIndex {
						return strconv.Itoa(i)
					}
					return env[k]
				}
				sh, err := bench.ParseShard(flagValue(c.Args, "--shard"), getenv)
				if err != nil || sh != (bench.Shard{Index: i, Count: *n}) {
					t.Errorf("%s: pod %d runs shard %+v (%v)", name, i, sh, err)
				}
			}
		}
	}
	if jobs == 0 {
		t.Fatal("no Job among the manifests")
	}
	tune, final := args["gnsr-gnn-tune"], args["gnsr-gnn-final"]
	if flagValue(tune, "--phase") != "tune" || flagValue(final, "--phase") != "final" {
		t.Errorf("the GNN phases: %v and %v", tune, final)
	}
	i := slices.Index(tune, "--phase")
	if i < 0 || !slices.Equal(slices.Delete(slices.Clone(tune), i, i+2), slices.Delete(slices.Clone(final), i, i+2)) {
		t.Errorf("the GNN phases run with different flags: %v and %v", tune, final)
	}
}

// TestManifestArgsRun runs the gnsr the Dockerfile builds (CGO_ENABLED=0)
// with each Job's arguments and environment, as pod 0 of an Indexed Job,
// with --out and the data root in temporary directories: gnsr must accept
// the flags, and read its shard from the index.
func TestManifestArgsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gnsr")
	}
	bin := filepath.Join(t.TempDir(), "gnsr")
	build := exec.Command("go", "build", "-o", bin, "github.com/gnsr/gnsr/cmd/gnsr")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	for file, docs := range manifests(t) {
		for _, m := range docs {
			if m.Kind != "Job" {
				continue
			}
			c := m.Spec.Template.Spec.Containers[0]
			args := slices.Clone(c.Args)
			if i := slices.Index(args, "--out"); i >= 0 {
				args[i+1] = filepath.Join(t.TempDir(), filepath.Base(args[i+1]))
			}
			// PubMed is compiled into gnsr, so an empty data root would not
			// stop tune: damaged files there do, after every flag is read.
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "pubmed", "raw"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, ext := range []string{"x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"} {
				if err := os.WriteFile(filepath.Join(root, "pubmed", "raw", "ind.pubmed."+ext), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := append(os.Environ(), "JOB_COMPLETION_INDEX=0", "SLURM_ARRAY_TASK_ID=", "GNSR_DATA="+root, "GNSR_OFFLINE=1")
			for k, v := range envOf(c) {
				if k != "GNSR_DATA" {
					env = append(env, k+"="+v)
				}
			}
			want := ""
			switch {
			case args[0] == "bench" && args[1] == "gnn":
				// The plan of shard 0, without training.
				args = append(args, "--dry-run")
				want = "shard 0/" + envOf(c)[bench.EnvShardCount]
			case args[0] == "tune":
				// Every flag is read before the data: the damaged file is
				// the first error.
				want = "checksum mismatch"
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			switch {
			case want == "checksum mismatch" && (err == nil || !strings.Contains(string(out), want)):
				t.Errorf("%s %s: gnsr %v: %v, want the damaged data file:\n%s", file, m.Metadata.Name, args, err, out)
			case want != "checksum mismatch" && (err != nil || !strings.Contains(string(out), want)):
				t.Errorf("%s %s: gnsr %v: %v, want %q:\n%s", file, m.Metadata.Name, args, err, want, out)
			}
		}
	}
}
