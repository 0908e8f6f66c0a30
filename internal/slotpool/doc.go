// Package slotpool keeps the JobManager's view of the TaskManagers that have
// registered and the slots they offer, and maps a deployment's slots onto
// them.
//
// A Pool is pure: no goroutines, no IO, no clock. The JobManager's loop owns
// it and:
//
//  1. Registers a TaskManager when its Register message arrives, and Removes
//     it when it is lost or gone.
//  2. Marks a TaskManager leaving when it announces a graceful stop. Its slots
//     stop counting as available at once, so the scheduler rescales without
//     it, but it stays registered (and keeps serving) until it is removed.
//  3. Reports Available to the scheduler after every change.
//  4. Calls Assign when the scheduler deploys: slot k of the deployment hosts
//     subtask k of every vertex (slot sharing), so a deployment of
//     parallelism p needs p slots.
//
// Assign keeps a subtask where it was when it can (its state is local there
// and the network topology is unchanged), then spreads new slots across
// TaskManagers round-robin in registration order rather than filling one
// TaskManager first, so that load, and the blast radius of a lost
// TaskManager, is spread.
package slotpool
