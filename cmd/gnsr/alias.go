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
// for as set, so that Changed reports it under its name. Giving both
// spellings is an error.
func resolveAliases(fs *pflag.FlagSet) error {
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
	})
	return err
}

// spelling returns the flag name as the command line gave it: --name, or
// the old spelling of it that was used.
func spelling(fs *pflag.FlagSet, name string) string {
	used := "--" + name
	fs.Visit(func(f *pflag.Flag) {
		if to := f.Annotations[aliasOf]; len(to) > 0 && to[0] == name {
			used = "--" + f.Name
		}
	})
	return used
}

// warnAliases says on w, a line each, which old spellings the command line
// of fs used; run prints it after the command's own output and error.
func warnAliases(w io.Writer, fs *pflag.FlagSet) {
	fs.Visit(func(f *pflag.Flag) {
		if to := f.Annotations[aliasOf]; len(to) > 0 {
			fmt.Fprintf(w, "gnsr: --%s is deprecated: use --%s, the name the other commands use\n", f.Name, to[0])
		}
	})
}
