package rest

// PopulatedBackend is a fake Backend with one running job (JobA) on two
// TaskManagers, for the tests of package rest_test.
func PopulatedBackend() Backend { return populatedBackend() }

// JobA is the id of PopulatedBackend's job.
const JobA = jobA
