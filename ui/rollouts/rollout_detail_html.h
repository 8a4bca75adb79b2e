// The HTML of the Rollouts panel's detail pane, from one stored rollout: a header line, the
// reward breakdown (each component with every intermediate it stored, nested values flattened
// to "key.sub" rows), the answer, reference, reasoning and prompt apart, and the completion's
// tokens coloured by log-prob (white = probability 1, red = improbable) or, where the run stored
// them, by the entropy of the distribution each token was drawn from (white = certain, blue =
// spread), with a legend of the scale. Each token is an anchor "tok:<index>" so the view can
// show its tooltip (tokenToolTip). Pure functions.
#pragma once
#include <QString>

#include "core/store/workspace.h"

namespace reflab::ui {

enum class TokenColour { LogProb, Entropy };

// Entropy at and above which a token takes the scale's full colour (nats).
constexpr float kEntropyFullScale = 4.0f;

QString rolloutDetailHtml(const store::RolloutDetail& d, TokenColour by = TokenColour::LogProb);
QString rewardBreakdownHtml(const store::RolloutRecord& r);
// By entropy only when the rollout has them; else by log-prob.
QString tokensHtml(const store::RolloutDetail& d, TokenColour by = TokenColour::LogProb);
// "token 'text' · id 123 · log-prob -0.52 (p = 0.59) · entropy 1.23 nats" for token `index`
// ("" when out of range; the entropy where stored).
QString tokenToolTip(const store::RolloutDetail& d, int index);
// The background colour of a token with this log-prob (#rrggbb).
QString logprobColor(float logprob);
// The background colour of a token drawn from a distribution of this entropy (#rrggbb).
QString entropyColor(float entropy);
// A line of swatches naming the scale's values.
QString tokenColourLegend(TokenColour by);

}  // namespace reflab::ui
