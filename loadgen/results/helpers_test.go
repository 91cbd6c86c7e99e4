package results

import "github.com/serverlab/lab/loadgen/catalog"

func pointConns(c int) catalog.Point { return catalog.Point{Label: "c", Conns: c} }
