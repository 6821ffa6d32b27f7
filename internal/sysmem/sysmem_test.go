package sysmem

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const meminfo = "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n"

func TestAvailable(t *testing.T) {
	for _, test := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"meminfo only", map[string]string{"proc/meminfo": meminfo}, 20000000 << 10},
		{"cgroup v2 lower", map[string]string{"proc/meminfo": meminfo,
			"sys/fs/cgroup/memory.max": "4000000000\n", "sys/fs/cgroup/memory.current": "1000000000\n"}, 3000000000},
		{"cgroup v2 unlimited", map[string]string{"proc/meminfo": meminfo,
			"sys/fs/cgroup/memory.max": "max\n", "sys/fs/cgroup/memory.current": "1000000000\n"}, 20000000 << 10},
		{"cgroup v1 lower", map[string]string{"proc/meminfo": meminfo,
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "2000000000\n", "sys/fs/cgroup/memory/memory.usage_in_bytes": "500000000\n"}, 1500000000},
		{"cgroup over its limit", map[string]string{"proc/meminfo": meminfo,
			"sys/fs/cgroup/memory.max": "1000\n", "sys/fs/cgroup/memory.current": "2000\n"}, 0},
	} {
		root := t.TempDir()
		for name, content := range test.files {
			write(t, root, name, content)
		}
		got, err := availableIn(root)
		if err != nil || got != test.want {
			t.Errorf("%s: got %d, %v; want %d", test.name, got, err, test.want)
		}
	}
}

func TestAvailableErrors(t *testing.T) {
	if _, err := availableIn(t.TempDir()); !errors.Is(err, ErrUnknown) {
		t.Errorf("no meminfo: got %v, want ErrUnknown", err)
	}
	root := t.TempDir()
	write(t, root, "proc/meminfo", "MemTotal: 5 kB\n")
	if _, err := availableIn(root); err == nil {
		t.Error("meminfo without MemAvailable: no error")
	}
	if _, err := Available(); err != nil {
		t.Logf("this machine: %v", err) // not Linux
	}
}
