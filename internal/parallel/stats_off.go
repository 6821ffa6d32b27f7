//go:build !parstats

package parallel

import "time"

// section is nothing in a default build: the calls on it compile away.
type section struct{}

func begin(int) *section { return nil }

func (*section) timed(fn func(lo, hi int)) func(lo, hi int) { return fn }

func (*section) end() {}

// Stats reports ok = false: this binary was built without -tags parstats
// and counts nothing.
func Stats() (sections int64, wall, overhead time.Duration, ok bool) { return 0, 0, 0, false }

// Sites returns nil: this binary was built without -tags parstats.
func Sites() []Site { return nil }
