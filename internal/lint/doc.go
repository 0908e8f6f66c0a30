// Package lint holds Tide's conventions as tests, so that review does not
// have to remember them: the protocol cores stay pure (no clock, no sleep,
// no global randomness, no IO packages), atomics are typed, and only the
// command line prints.
package lint
