// The HTML of the Rollouts panel's detail pane, from one stored rollout: a header line, the
// reward breakdown (each component with every intermediate it stored, nested values flattened
// to "key.sub" rows), the answer, reference, reasoning and prompt apart, and the completion's
// tokens coloured by log-prob (white = probability 1, red = improbable). Each token is an
// anchor "tok:<index>" so the view can show its tooltip (tokenToolTip). Pure functions.
#pragma once
#include <QString>

#include "core/store/workspace.h"

namespace reflab::ui {

QString rolloutDetailHtml(const store::RolloutDetail& d);
QString rewardBreakdownHtml(const store::RolloutRecord& r);
QString tokensHtml(const store::RolloutDetail& d);
// "token 'text' · id 123 · log-prob -0.52 (p = 0.59)" for token `index` ("" when out of range).
QString tokenToolTip(const store::RolloutDetail& d, int index);
// The background colour of a token with this log-prob (#rrggbb).
QString logprobColor(float logprob);

}  // namespace reflab::ui
