package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestCollectMetaIgnoresCheckout runs CollectMeta in a git checkout whose
// commit has nothing to do with the binary: test binaries carry no VCS
// stamp, so the commit must be "unknown", not the checkout's (which the
// bench used to record when --out was inside another repository).
func TestCollectMetaIgnoresCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "unrelated"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("dirty"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				t.Skipf("this test binary carries a VCS stamp (%s)", s.Value)
			}
		}
	}
	if m := CollectMeta(); m.Commit != "unknown" || m.Dirty {
		t.Errorf("commit %q, dirty %v in an unrelated checkout; want unknown, clean", m.Commit, m.Dirty)
	}
}

// TestStampBuild checks that the binary's own build information is what
// the records name.
func TestStampBuild(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bi      debug.BuildInfo
		want    string
		dirty   bool
		version string
	}{
		{"go build in a checkout", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}},
			"0123456789abcdef", true, "v0.0.0-20260101000000-0123456789ab+dirty"},
		{"clean build", debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fedcba"}, {Key: "vcs.modified", Value: "false"}}}, "fedcba", false, ""},
		{"go install module@version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "unknown", false, "v1.2.3"},
		{"go run", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "unknown", false, ""},
	} {
		m := Meta{Commit: "unknown"}
		stampBuild(&m, &tc.bi)
		if m.Commit != tc.want || m.Dirty != tc.dirty || m.Version != tc.version {
			t.Errorf("%s: commit %q dirty %v version %q; want %q %v %q", tc.name, m.Commit, m.Dirty, m.Version, tc.want, tc.dirty, tc.version)
		}
	}
}
