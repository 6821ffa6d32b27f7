package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// aliasOf annotates a flag that is the old spelling of another: its value
// is the other's.
const aliasOf = "gnsr-alias-of"

// addAlias adds old to fs as a hidden, deprecated spelling of the flag
// name, sharing its value, so that scripts written before the commands
// shared one vocabulary keep working. It panics if fs has no flag name.
func addAlias(fs *pflag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("addAlias: no flag --" + name)
	}
	fs.AddFlag(&pflag.Flag{
		Name: old, Usage: "deprecated spelling of --" + name, Value: f.Value, DefValue: f.DefValue,
		Hidden: true, Annotations: map[string][]string{aliasOf: {name}},
	})
}

// resolveAliases marks the flag an alias given on the command line stands
// for as set (so that Changed reports it under its name), saying on
// stderr that the old spelling is deprecated. Giving both spellings is an
// error.
func resolveAliases(fs *pflag.FlagSet, stderr io.Writer) error {
	var err error
	fs.Visit(func(f *pflag.Flag) {
		names := f.Annotations[aliasOf]
		if len(names) == 0 || err != nil {
			return
		}
		to := fs.Lookup(names[0])
		if to.Changed {
			err = fmt.Errorf("--%s and --%s: the same flag twice; give --%s", f.Name, to.Name, to.Name)
			return
		}
		to.Changed = true
		fmt.Fprintf(stderr, "gnsr: --%s is deprecated: use --%s, the name the other commands use\n", f.Name, to.Name)
	})
	return err
}
