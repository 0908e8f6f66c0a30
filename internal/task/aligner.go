package task

// aligner tracks checkpoint barriers across the input channels of one
// subtask (aligned checkpoints). A channel that has delivered the barrier of
// the checkpoint being aligned is blocked: its later messages wait, unread
// and so holding their credits, until every open channel has delivered the
// barrier. Ended channels count as aligned.
//
// It is a pure type: the task loop feeds it barriers and ends of channels and
// acts on what it returns.
type aligner struct {
	blocked []bool
	ended   []bool
	// current is the checkpoint being aligned, 0 when none.
	current uint64
	seen    int
	open    int
}

func newAligner(n int) *aligner {
	return &aligner{blocked: make([]bool, n), ended: make([]bool, n), open: n}
}

// alignResult says what a barrier or an end of channel did.
type alignResult struct {
	// Complete is the checkpoint whose barrier every open channel has now
	// delivered: snapshot and forward it.
	Complete uint64
	// Aborted is an older checkpoint given up because a newer barrier
	// overtook it: decline it.
	Aborted uint64
}

// barrier records checkpoint id's barrier on channel ch.
func (a *aligner) barrier(ch int, id uint64) alignResult {
	var res alignResult
	switch {
	case id < a.current || (id == a.current && a.blocked[ch]):
		// A barrier of a checkpoint already given up, or a duplicate.
		return res
	case id > a.current && a.current != 0:
		res.Aborted = a.current
		a.reset()
	}
	if a.current == 0 {
		a.current = id
	}
	a.blocked[ch] = true
	a.seen++
	if a.seen == a.open {
		res.Complete = a.current
		a.reset()
	}
	return res
}

// end records that channel ch has ended. An end can complete an alignment
// that waited for the channel.
func (a *aligner) end(ch int) alignResult {
	if a.ended[ch] {
		return alignResult{}
	}
	a.ended[ch] = true
	a.open--
	if a.blocked[ch] {
		// Impossible for a well-behaved producer (it sends the barrier, then
		// ends); keep the count right anyway.
		a.blocked[ch] = false
		a.seen--
	}
	if a.current != 0 && a.seen == a.open {
		res := alignResult{Complete: a.current}
		a.reset()
		return res
	}
	return alignResult{}
}

func (a *aligner) reset() {
	for i := range a.blocked {
		a.blocked[i] = false
	}
	a.current, a.seen = 0, 0
}

// isBlocked reports whether channel ch waits for the alignment to finish.
func (a *aligner) isBlocked(ch int) bool { return a.blocked[ch] }

// allEnded reports whether every channel has ended.
func (a *aligner) allEnded() bool { return a.open == 0 }
