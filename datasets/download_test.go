package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dirNames lists the entries of dir, temporary files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloaderFetch(t *testing.T) {
	content := []byte(strings.Repeat("planetoid bytes ", 5000))
	other := append([]byte(nil), content...)
	other[100] ^= 1
	mux := http.NewServeMux()
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) { w.Write(content) })
	mux.HandleFunc("/wrong", func(w http.ResponseWriter, r *http.Request) { w.Write(other) })
	mux.HandleFunc("/long", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)+1))
		w.Write(append(content, 'x'))
	})
	mux.HandleFunc("/long-unannounced", func(w http.ResponseWriter, r *http.Request) { w.Write(append(content, 'x')) })
	mux.HandleFunc("/truncated", func(w http.ResponseWriter, r *http.Request) {
		// Announce the full length, then hang up half-way.
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content[:len(content)/2])
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Transfer-Encoding", "chunked") // no length announced
		w.Write(content[:len(content)/2])
		w.(http.Flusher).Flush()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	spec := FileSpec{Name: "ind.test.x", Size: int64(len(content)), SHA256: sum(content)}
	for _, tc := range []struct {
		path string
		spec FileSpec
		is   error
		want []string
	}{
		{"/good", spec, nil, nil},
		{"/good", FileSpec{Name: spec.Name}, nil, nil}, // nothing known: accepted as is
		{"/wrong", spec, ErrChecksum, []string{"ind.test.x", "sha256 " + sum(other), "want " + spec.SHA256}},
		{"/wrong", FileSpec{Name: spec.Name, SHA256: spec.SHA256}, ErrChecksum, []string{"sha256 " + sum(other)}},
		{"/long", spec, ErrChecksum, []string{"ind.test.x", "announces 80001 bytes, want 80000"}},
		{"/long-unannounced", spec, ErrChecksum, []string{"ind.test.x", "got 80001 bytes, want 80000"}},
		{"/missing", spec, nil, []string{"ind.test.x", "404"}},
		{"/truncated", spec, nil, []string{"ind.test.x", "unexpected EOF"}},
		{"/short", spec, ErrChecksum, []string{"ind.test.x", "got 40000 bytes, want 80000"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "raw")
			var last int64
			d := &Downloader{Progress: func(file string, done, total int64) {
				if file != spec.Name || done < last || total != tc.spec.Size {
					t.Errorf("progress(%q, %d, %d) after %d", file, done, total, last)
				}
				last = done
			}}
			err := d.fetch(context.Background(), dir, srv.URL+tc.path, &Entry{}, tc.spec)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(dir, spec.Name))
				if err != nil || string(got) != string(content) || last != int64(len(content)) {
					t.Fatalf("file %d bytes (%v), progress %d; want %d bytes", len(got), err, last, len(content))
				}
				if names := dirNames(t, dir); len(names) != 1 {
					t.Errorf("directory holds %v", names)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("failed download left %v behind", names)
			}
		})
	}
}

func TestDownloaderCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("x"))
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "raw")
	err := (&Downloader{}).fetch(ctx, dir, srv.URL, &Entry{}, FileSpec{Name: "f", Size: 1})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("cancelled download left %v behind", names)
	}
}

func TestDownloadErrors(t *testing.T) {
	root := t.TempDir()
	var d Downloader
	if err := d.Download(context.Background(), root, "nosuch"); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("unknown dataset: %v", err)
	}
	if err := d.Download(context.Background(), root, "cifar10-jpeg"); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "YoongiKim") {
		t.Errorf("cifar10-jpeg: %v", err)
	}
	// A server that refuses everything, behind the URL hook: the request
	// must go there, not to the network.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	d.URL = func(dataset string, f FileSpec) string { return srv.URL + "/" + dataset + "/" + f.Name }
	d.NoEmbedded = true
	err := d.Download(context.Background(), root, "cora")
	if err == nil || !strings.Contains(err.Error(), "ind.cora.x") || !strings.Contains(err.Error(), srv.URL+"/cora/ind.cora.x") {
		t.Errorf("404: %v", err)
	}
	if names := dirNames(t, filepath.Join(root, "cora", "raw")); len(names) != 0 {
		t.Errorf("left %v behind", names)
	}
}

// TestDownloadReal serves the shared Planetoid files from a local server,
// downloads them into a fresh root, then verifies and loads them.
func TestDownloadReal(t *testing.T) {
	shared := dataRoot(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(shared)))
	defer srv.Close()
	root := t.TempDir()
	d := &Downloader{
		Client: srv.Client(),
		URL: func(dataset string, f FileSpec) string {
			if !strings.HasPrefix(f.URL, planetoidURL) {
				t.Errorf("canonical URL %q", f.URL)
			}
			return srv.URL + "/" + dataset + "/raw/" + f.Name
		},
	}
	if err := d.Download(context.Background(), root, "citeseer"); err != nil {
		t.Fatal(err)
	}
	st, err := Verify(root, "citeseer")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.OK {
			t.Errorf("%+v", s)
		}
	}
	if _, err := Load(root, "citeseer"); err != nil {
		t.Fatal(err)
	}
	// Present files are not fetched again.
	srv.Close()
	if err := d.Download(context.Background(), root, "citeseer"); err != nil {
		t.Errorf("second download: %v", err)
	}
	// Verify reports a damaged file.
	path := filepath.Join(root, "citeseer", "raw", "ind.citeseer.y")
	os.WriteFile(path, []byte("damaged"), 0o644)
	os.Remove(filepath.Join(root, "citeseer", "raw", "ind.citeseer.ty"))
	st, err = Verify(root, "citeseer")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		switch s.Spec.Name {
		case "ind.citeseer.y":
			if s.OK || !s.Present || s.Size != 7 || s.SHA256 != sum([]byte("damaged")) {
				t.Errorf("damaged file: %+v", s)
			}
		case "ind.citeseer.ty":
			if s.OK || s.Present {
				t.Errorf("removed file: %+v", s)
			}
		default:
			if !s.OK {
				t.Errorf("%+v", s)
			}
		}
	}
}

// TestDownloadEmbedded writes Cora from the binary's copy, without network,
// and replaces a damaged file instead of calling it ready.
func TestDownloadEmbedded(t *testing.T) {
	root := t.TempDir()
	d := &Downloader{Client: &http.Client{Transport: failTransport{}}}
	var replaced []string
	d.Replacing = func(path, why string) { replaced = append(replaced, filepath.Base(path)+": "+why) }
	if err := d.Download(context.Background(), root, "cora"); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		st, err := Verify(root, "cora")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if !s.OK {
				t.Errorf("%s: %+v", s.Path, s)
			}
		}
	}
	check()
	path := filepath.Join(root, "cora", "raw", "ind.cora.y")
	if err := os.WriteFile(path, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Download(context.Background(), root, "cora"); err != nil {
		t.Fatal(err)
	}
	check()
	if len(replaced) != 1 || !strings.Contains(replaced[0], "ind.cora.y: 7 bytes, want 4054") {
		t.Errorf("replaced %q", replaced)
	}
}

// failTransport fails every request, as a machine without network does.
type failTransport struct{}

func (failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: no network")
}

// TestDownloadNoNetwork checks the error of a download without network: it
// names the file and says where to put it by hand.
func TestDownloadNoNetwork(t *testing.T) {
	root := t.TempDir()
	d := &Downloader{Client: &http.Client{Transport: failTransport{}}}
	err := d.Download(context.Background(), root, "amazon-photo")
	want := filepath.Join(root, "amazon-photo", "raw", "amazon_electronics_photo.npz")
	if err == nil || !strings.Contains(err.Error(), "no network?") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one saying no network and naming %s", err, want)
	}
	if m, err := Missing(root, "amazon-photo"); err != nil || len(m) != 1 {
		t.Errorf("Missing = %v, %v", m, err)
	}
	if m, err := Missing(root, "pubmed"); err != nil || len(m) != 0 {
		t.Errorf("Missing(pubmed) = %v, %v: the embedded copy stands in", m, err)
	}
}

// TestDownloadReplacesModified serves a file whose present copy differs from
// the registry's: Download replaces it.
func TestDownloadReplacesModified(t *testing.T) {
	content := []byte(strings.Repeat("x", 1000))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(content) }))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "raw")
	spec := FileSpec{Name: "f", Size: int64(len(content)), SHA256: sum(content)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), content...)
	damaged[3] = 'y'
	if err := os.WriteFile(filepath.Join(dir, "f"), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	var why string
	d := &Downloader{Replacing: func(_, w string) { why = w }}
	if err := d.fetch(context.Background(), dir, srv.URL, &Entry{}, spec); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "f"))
	if string(got) != string(content) || !strings.Contains(why, "sha256 "+sum(damaged)) {
		t.Errorf("file %q, reason %q", got[:10], why)
	}
}
