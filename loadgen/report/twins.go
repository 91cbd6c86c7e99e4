package report

// twinsReal renders "The twins against the real stacks" (issue 12 item 4).
func (r *renderer) twinsReal() {}
