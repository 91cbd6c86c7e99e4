package report

// compareSection lists the verdicts that differ from another run's.
func (r *renderer) compareSection() {}
