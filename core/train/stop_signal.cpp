// SIGTERM/SIGINT -> a flag the trainer polls between steps.
#include "core/train/stop_signal.h"

#include <csignal>

namespace reflab::train {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_signal = 0;
bool g_installed = false;
struct sigaction g_old_term {};
struct sigaction g_old_int {};

extern "C" void onStopSignal(int sig) {
    if (g_stop) {  // second signal: die the default way
        std::signal(sig, SIG_DFL);
        std::raise(sig);
        return;
    }
    g_stop = 1;
    g_signal = sig;
}

}  // namespace

void installStopHandlers() {
    if (g_installed) return;
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a write to the store in progress is not interrupted
    sigaction(SIGTERM, &sa, &g_old_term);
    sigaction(SIGINT, &sa, &g_old_int);
    g_installed = true;
}

void removeStopHandlers() {
    if (!g_installed) return;
    sigaction(SIGTERM, &g_old_term, nullptr);
    sigaction(SIGINT, &g_old_int, nullptr);
    g_installed = false;
}

bool stopRequested() {
    return g_stop != 0;
}
void requestStop() {
    g_stop = 1;
}
void clearStopRequest() {
    g_stop = 0;
    g_signal = 0;
}
int stopSignal() {
    return g_signal;
}

}  // namespace reflab::train
