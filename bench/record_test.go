package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCollectMetaCheckout checks the fallback for binaries without a VCS
// stamp (test binaries have none): the commit of the checkout holding dir,
// dirty once a tracked file changes, and "unknown" outside a checkout.
func TestCollectMetaCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	ctx := context.Background()
	if m := CollectMeta(ctx, t.TempDir()); m.Commit != "unknown" || m.Dirty {
		t.Errorf("outside a checkout: commit %q, dirty %v; want unknown, clean", m.Commit, m.Dirty)
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	file := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(file, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "f.txt")
	git("commit", "-q", "-m", "one")
	head := git("rev-parse", "HEAD")
	if m := CollectMeta(ctx, dir); m.Commit != head || m.Dirty {
		t.Errorf("clean checkout: commit %q, dirty %v; want %q, clean", m.Commit, m.Dirty, head)
	}
	if err := os.WriteFile(file, []byte("b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if m := CollectMeta(ctx, dir); m.Commit != head || !m.Dirty {
		t.Errorf("edited checkout: commit %q, dirty %v; want %q, dirty", m.Commit, m.Dirty, head)
	}
}
