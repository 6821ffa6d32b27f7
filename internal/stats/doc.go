// Package stats holds the summary statistics gnsr reports, computed as the
// Python peers compute them so that numbers set side by side mean the same.
package stats
