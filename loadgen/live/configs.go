package live

import (
	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
)

// allConfigs is every configuration the page may offer: the catalog's
// (twins, and real stacks where the catalog has them).
func allConfigs() []catalog.Config { return catalog.Configs }

// installed reports whether a stack's requirements are met here.
func installed(c catalog.Config) bool { return procman.Check(c) == nil }
