// SPDX-License-Identifier: Apache-2.0

// Command go-modzip tells what a module zip of the checkout would hold: it
// reads the checkout's files (paths relative to the folder given as its one
// argument, one per line on standard input, as `git ls-files` prints them),
// lets golang.org/x/mod/zip sort them into those a zip of the module at that
// folder keeps, omits (nested modules, VCS and vendor folders) or refuses, and
// prints the three lists with the zip's size as one JSON document.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

type file struct{ root, path string }

func (f file) Path() string                 { return f.path }
func (f file) Lstat() (os.FileInfo, error)  { return os.Lstat(filepath.Join(f.root, f.path)) }
func (f file) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.root, f.path)) }

type report struct {
	Valid   []string          `json:"valid"`
	Omitted map[string]string `json:"omitted"`
	Invalid map[string]string `json:"invalid"`
	Bytes   int               `json:"zip_bytes"`
}

func run(root string, list io.Reader, out io.Writer) error {
	var files []zip.File
	lines := bufio.NewScanner(list)
	for lines.Scan() {
		if lines.Text() != "" {
			files = append(files, file{root, lines.Text()})
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	checked, err := zip.CheckFiles(files)
	r := report{Valid: []string{}, Omitted: map[string]string{}, Invalid: map[string]string{}}
	for _, f := range checked.Valid {
		r.Valid = append(r.Valid, f)
	}
	for _, f := range checked.Omitted {
		r.Omitted[f.Path] = f.Err.Error()
	}
	for _, f := range checked.Invalid {
		r.Invalid[f.Path] = f.Err.Error()
	}
	if err == nil {
		var zipped bytes.Buffer
		version := module.Version{Path: "github.com/cilium/proxy", Version: "v0.0.0-20000101000000-000000000000"}
		if err := zip.Create(&zipped, version, files); err != nil {
			return err
		}
		r.Bytes = zipped.Len()
	}
	encoder := json.NewEncoder(out)
	encoder.SetIndent("", " ")
	return encoder.Encode(r)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: git ls-files | go-modzip CHECKOUT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "go-modzip:", err)
		os.Exit(1)
	}
}
