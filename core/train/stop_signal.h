// Graceful stop on SIGTERM / SIGINT (ARCHITECTURE.md: "Stopping is SIGTERM"). The first signal
// sets a flag that the trainer reads between steps: it finishes the step, checkpoints, marks
// the run 'stopped' and returns. A second signal restores the default action and re-raises,
// so a stuck process still dies (the run is then found 'interrupted').
#pragma once

namespace reflab::train {

// Installs the handlers (idempotent). Call from the main thread before training.
void installStopHandlers();
// Restores the previous handlers (tests, or a CLI that trains twice).
void removeStopHandlers();
bool stopRequested();  // async-signal-safe flag read
void requestStop();    // same effect as a signal (tests, GUI in-process use)
void clearStopRequest();
int stopSignal();  // the signal that asked (0 when requested by requestStop or none)

}  // namespace reflab::train
