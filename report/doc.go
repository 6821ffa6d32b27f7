// Package report writes what gnsr measures for people to read: CSV tables and
// PNG charts (gonum/plot) with labelled axes, a legend and a title. Every file
// is written atomically: to a temporary file in the same directory, synced,
// then renamed, so an interrupted run never leaves half a file behind.
package report
