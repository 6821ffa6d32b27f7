// Package tabular reads the tables of user and OGB graphs in bounded memory:
// CSV files, gzipped or not, line by line through a fixed buffer, and
// Parquet files page by page through their row groups. It is the file-format
// layer under the dataset definitions of package datasets, as PyG keeps its
// readers in torch_geometric.io.
//
// Readers never trust a file: a line longer than the buffer, a field that is
// not a number, a gzip stream cut short, a Parquet column of the wrong type
// or whose declared sizes exceed the file are errors of type *Error, which
// name the file and the line or column and wrap ErrFormat. Nothing a file
// declares drives an allocation beyond what its bytes can hold.
package tabular
