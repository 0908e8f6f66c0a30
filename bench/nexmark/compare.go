package nexmark

// Diff compares an engine's result rows with a reference result as
// multisets: missing are rows of want that got lacks (as often as they are
// lacking) and unexpected are rows of got beyond want. Both are empty when
// the results are equal, whatever the order of got; they keep want's and
// got's order.
func Diff[R comparable](want, got []R) (missing, unexpected []R) {
	n := make(map[R]int, len(want))
	for _, r := range want {
		n[r]++
	}
	for _, r := range got {
		if n[r] > 0 {
			n[r]--
		} else {
			unexpected = append(unexpected, r)
		}
	}
	for _, r := range want {
		if n[r] > 0 {
			n[r]--
			missing = append(missing, r)
		}
	}
	return missing, unexpected
}
