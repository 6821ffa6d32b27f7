package datasets_test

import (
	"fmt"

	"github.com/gnsr/gnsr/datasets"
)

func ExampleRoot() {
	// A flag wins over $GNSR_DATA and the user cache directory.
	root, err := datasets.Root("/srv/gnsr-data")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(root)
	// Output: /srv/gnsr-data
}

func ExampleFiles() {
	files, err := datasets.Files("cora")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files[:2] {
		fmt.Println(f.Name, f.Size, f.URL)
	}
	// Output:
	// ind.cora.x 22119 https://github.com/kimiyoung/planetoid/raw/master/data/ind.cora.x
	// ind.cora.y 4054 https://github.com/kimiyoung/planetoid/raw/master/data/ind.cora.y
}
