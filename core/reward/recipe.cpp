// Recipe JSON v1 parser: sections, components, defaults. See recipe.h and METHODS.md.
#include "core/reward/recipe.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/reward/recipe_reader.h"
#include "core/reward/recipe_stages.h"

namespace reflab::reward {

const char* const kDefaultReversePrompt =
    "Given the question and reference answer, produce a step-by-step explanation in "
    "first-person think-aloud style. You must not mention prior access to the reference answer. "
    "Include intermediate steps, rationale, and any necessary backtracking.";

const char* const kDefaultJudgePrompt =
    "You are grading a response against one criterion of a rubric.\n\n"
    "Rubric:\n{rubric}\n\n"
    "Criterion: {criterion}: {description}\n\n"
    "Task:\n{task}\n\n"
    "Response:\n{completion}\n\n"
    "How well does the response meet the criterion, from 0 (not at all) to {max_score} "
    "(fully)? Answer with a single digit.";

const char* const kDefaultContrastivePrompt =
    "Here are a task and {n} candidate responses.\n\n"
    "Task:\n{task}\n\n"
    "{candidates}"
    "Rubric:\n{rubric}\n\n"
    "Which candidate meets the rubric best? Answer with the candidate's number only.";

namespace {

const std::vector<std::string> kDefaultLeakPhrases = {
    "reference answer", "reference solution", "the reference",   "provided answer",
    "given answer",     "answer key",         "expected answer", "i was told the answer"};

ComponentType parseType(RecipeReader& r) {
    const std::string t =
        r.choice("type", "", {"format", "nover", "rgr", "rlpr", "rubric", "exact_match"});
    if (t == "format") return ComponentType::Format;
    if (t == "nover") return ComponentType::Nover;
    if (t == "rgr") return ComponentType::Rgr;
    if (t == "rlpr") return ComponentType::Rlpr;
    if (t == "rubric") return ComponentType::Rubric;
    return ComponentType::ExactMatch;
}

void parseNover(RecipeReader& r, NoverOptions& o) {
    o.weight_rank = r.number("weight_rank", o.weight_rank, 0, kUnbounded);
    o.weight_efficiency = r.number("weight_efficiency", o.weight_efficiency, 0, kUnbounded);
    o.top_k = r.optionalInteger("top_k", 1, kUnboundedInt);
    // log_base: 10 (the code) or "e" (the paper); any base > 1 is accepted as a number.
    if (const auto* v = r.raw("log_base")) {
        if (v->is_string() && v->get<std::string>() == "e") {
            o.log_base = std::exp(1.0);
            r.out()["log_base"] = "e";
        } else if (v->is_number() && v->get<double>() > 1.0) {
            o.log_base = v->get<double>();
            r.out()["log_base"] = o.log_base;
        } else {
            r.fail("log_base", "expected 10, \"e\" or a number > 1, got " + jsonTypeName(*v));
        }
    } else {
        r.out()["log_base"] = 10;
    }
    o.score_tags = r.boolean("score_tags", o.score_tags);
    RecipeReader p = r.object("proxy");
    o.proxy_alpha = p.number("alpha", o.proxy_alpha, 0, 1);
    o.proxy_sync_every = p.integer("sync_every", o.proxy_sync_every, 1, kUnboundedInt);
    o.proxy_model = p.string("model", o.proxy_model);
    p.finish();
}

void parseRgr(RecipeReader& r, RgrOptions& o) {
    o.length_norm = r.boolean("length_norm", o.length_norm);
    o.score_tags = r.boolean("score_tags", o.score_tags);
    o.lambda = r.number("lambda", o.lambda, 0, kUnbounded);
}

void parseRlpr(RecipeReader& r, RlprOptions& o) {
    o.format_coef = r.number("format_coef", o.format_coef, 0, 1);
    o.clip = r.boolean("clip", o.clip);
    o.debias = r.boolean("debias", o.debias);
    o.score_tags = r.boolean("score_tags", o.score_tags);
    o.mask_unanswered = r.boolean("mask_unanswered", o.mask_unanswered);
    o.repetition_penalty = r.boolean("repetition_penalty", o.repetition_penalty);
    o.repetition_window = r.integer("repetition_window", o.repetition_window, 1, kUnboundedInt);
    o.repetition_count = r.integer("repetition_count", o.repetition_count, 2, kUnboundedInt);
    o.repetition_value = r.number("repetition_value", o.repetition_value, -kUnbounded, 0);
    RecipeReader f = r.object("std_filter");
    o.std_filter.enabled = f.boolean("enabled", o.std_filter.enabled);
    o.std_filter.beta = f.number("beta", o.std_filter.beta, 0, kUnbounded);
    o.std_filter.decay = f.number("decay", o.std_filter.decay, 0, 1);
    o.std_filter.warmup_begin =
        f.integer("warmup_begin", o.std_filter.warmup_begin, 1, kUnboundedInt);
    o.std_filter.warmup_end = f.integer("warmup_end", o.std_filter.warmup_end, 1, kUnboundedInt);
    if (o.std_filter.warmup_end < o.std_filter.warmup_begin)
        f.fail("warmup_end", "must be ≥ warmup_begin");
    f.finish();
}

void parseCriterion(RecipeReader& r, RubricCriterion& c) {
    c.name = r.requiredString("name");
    if (c.name.empty()) r.fail("name", "must not be empty");
    c.description = r.string("description", "");
    c.weight = r.number("weight", c.weight, 0, kUnbounded);
    const std::string kind = r.choice("kind", "judge", {"judge", "check"});
    c.kind = kind == "judge" ? CriterionKind::Judge : CriterionKind::Check;
    if (c.kind == CriterionKind::Judge) return;
    c.rule = r.choice("rule", "",
                      {"sections", "descriptive_ratio", "no_second_person", "positive_wording",
                       "words_include", "words_exclude"});
    if (c.rule == "sections") {
        c.sections = r.stringList("sections", {"title", "introduction", "body", "conclusion"});
        if (c.sections.empty()) r.fail("sections", "must name at least one section");
    } else if (c.rule == "descriptive_ratio") {
        c.min_ratio = r.number("min_ratio", c.min_ratio, 0, kUnbounded);
    } else if (c.rule == "words_include" || c.rule == "words_exclude") {
        if (!r.has("words")) r.fail("words", "missing (required by rule \"" + c.rule + "\")");
        c.words = r.stringList("words", {});
        if (c.words.empty()) r.fail("words", "must list at least one word");
    }
}

void parseRubric(RecipeReader& r, RubricOptions& o) {
    const auto* list = r.raw("criteria");
    if (!list) r.fail("criteria", "missing (a rubric needs at least one criterion)");
    if (!list->is_array() || list->empty())
        r.fail("criteria", "expected a non-empty array, got " + jsonTypeName(*list));
    nlohmann::json out = nlohmann::json::array();
    std::set<std::string> names;
    for (size_t i = 0; i < list->size(); ++i) {
        nlohmann::json res;
        RecipeReader c((*list)[i], r.source(),
                       r.keyPath("criteria") + "[" + std::to_string(i) + "]", &res);
        RubricCriterion crit;
        parseCriterion(c, crit);
        c.finish();
        if (!names.insert(crit.name).second)
            c.fail("name", "duplicate criterion \"" + crit.name + "\"");
        o.criteria.push_back(crit);
        out.push_back(res);
    }
    r.out()["criteria"] = out;
    RecipeReader j = r.object("judge");
    const std::string src = j.choice("model", "policy", {"policy", "snapshot", "dir"});
    o.judge = src == "policy"     ? JudgeSource::Policy
              : src == "snapshot" ? JudgeSource::Snapshot
                                  : JudgeSource::Dir;
    o.judge_path = j.string("path", "");
    if (o.judge == JudgeSource::Dir && o.judge_path.empty())
        j.fail("path", "missing (required when judge.model is \"dir\")");
    o.max_score = j.integer("max_score", o.max_score, 1, 9);
    o.judge_prompt = j.string("prompt", o.judge_prompt);
    j.finish();
    RecipeReader c = r.object("contrastive");
    o.contrastive = c.boolean("enabled", o.contrastive);
    o.contrastive_weight = c.number("weight", o.contrastive_weight, 0, kUnbounded);
    o.contrastive_prompt = c.string("prompt", o.contrastive_prompt);
    c.finish();
    o.apply_to = r.choice("apply_to", o.apply_to, {"answer", "completion"});
}

ComponentSpec parseComponent(const nlohmann::json& j, const std::string& source, size_t index) {
    ComponentSpec c;
    RecipeReader r(j, source, "rewards[" + std::to_string(index) + "]", &c.resolved);
    if (!r.has("type"))
        r.fail("type", "missing (one of format, nover, rgr, rlpr, rubric, exact_match)");
    c.type = parseType(r);
    c.name = r.string("name", componentTypeName(c.type));
    if (c.name.empty()) r.fail("name", "must not be empty");
    c.weight = r.number("weight", 1.0, 0, kUnbounded);
    switch (c.type) {
        case ComponentType::Format: {
            const std::string check = r.choice("check", "template", {"template", "nover", "rlpr"});
            c.format.check = check == "template" ? FormatCheck::Template
                             : check == "nover"  ? FormatCheck::Nover
                                                 : FormatCheck::Rlpr;
            break;
        }
        case ComponentType::Nover:
            parseNover(r, c.nover);
            break;
        case ComponentType::Rgr:
            parseRgr(r, c.rgr);
            break;
        case ComponentType::Rlpr:
            parseRlpr(r, c.rlpr);
            break;
        case ComponentType::Rubric:
            parseRubric(r, c.rubric);
            break;
        case ComponentType::ExactMatch:
            break;
    }
    r.finish();
    return c;
}

}  // namespace

std::string componentTypeName(ComponentType t) {
    switch (t) {
        case ComponentType::Format:
            return "format";
        case ComponentType::Nover:
            return "nover";
        case ComponentType::Rgr:
            return "rgr";
        case ComponentType::Rlpr:
            return "rlpr";
        case ComponentType::Rubric:
            return "rubric";
        case ComponentType::ExactMatch:
            return "exact_match";
    }
    return "?";
}

const ComponentSpec* Recipe::find(ComponentType t) const {
    for (const auto& c : rewards)
        if (c.type == t) return &c;
    return nullptr;
}

Recipe parseRecipe(const nlohmann::json& j, const std::string& source_name) {
    Recipe rc;
    rc.source = source_name;
    rc.resolved = nlohmann::json::object();
    RecipeReader top(j, source_name, "", &rc.resolved);
    rc.version = top.integer("version", 1, 1, kUnboundedInt);
    if (rc.version != 1)
        top.fail("version",
                 "this RefLab reads recipe version 1, got " + std::to_string(rc.version));
    rc.name = top.string("name", rc.name);

    {
        RecipeReader m = top.object("model");
        rc.model.path = m.string("path", rc.model.path);
        rc.model.dtype = m.choice("dtype", rc.model.dtype, {"float32", "bfloat16", "float16"});
        rc.model.device = m.string("device", rc.model.device);
        const auto& d = rc.model.device;
        const bool cuda_n = d.rfind("cuda:", 0) == 0 && d.size() > 5 &&
                            d.find_first_not_of("0123456789", 5) == std::string::npos;
        if (d != "cpu" && d != "cuda" && !cuda_n)
            m.fail("device", "expected \"cpu\", \"cuda\" or \"cuda:N\", got \"" + d + "\"");
        m.finish();
    }
    {
        RecipeReader d = top.object("data");
        rc.data.train = d.string("train", rc.data.train);
        rc.data.eval = d.string("eval", rc.data.eval);
        rc.data.prompt_field = d.string("prompt_field", rc.data.prompt_field);
        rc.data.reference_field = d.string("reference_field", rc.data.reference_field);
        d.finish();
    }
    {
        RecipeReader t = top.object("template");
        rc.templ.system = t.string("system", rc.templ.system);
        rc.templ.user = t.string("user", rc.templ.user);
        if (rc.templ.user.find("{question}") == std::string::npos)
            t.fail("user", "must contain \"{question}\"");
        auto th = t.stringPair("think", {rc.templ.think.open, rc.templ.think.close});
        auto an = t.stringPair("answer", {rc.templ.answer.open, rc.templ.answer.close});
        rc.templ.think = {th.first, th.second};
        rc.templ.answer = {an.first, an.second};
        t.finish();
    }
    {
        RecipeReader g = top.object("generation");
        rc.generation.group_size = g.integer("group_size", rc.generation.group_size, 1, 4096);
        rc.generation.max_new_tokens =
            g.integer("max_new_tokens", rc.generation.max_new_tokens, 1, kUnboundedInt);
        rc.generation.temperature =
            g.number("temperature", rc.generation.temperature, 0, kUnbounded);
        rc.generation.top_p = g.number("top_p", rc.generation.top_p, 0, 1);
        if (rc.generation.top_p <= 0) g.fail("top_p", "must be > 0");
        rc.generation.top_k = g.integer("top_k", rc.generation.top_k, 0, kUnboundedInt);
        rc.generation.store_entropy = g.boolean("store_entropy", rc.generation.store_entropy);
        g.finish();
    }
    {
        const auto* list = top.raw("rewards");
        if (!list) top.fail("rewards", "missing (a recipe needs at least one reward component)");
        if (!list->is_array() || list->empty())
            top.fail("rewards", "expected a non-empty array, got " + jsonTypeName(*list));
        nlohmann::json out = nlohmann::json::array();
        std::set<std::string> names;
        for (size_t i = 0; i < list->size(); ++i) {
            rc.rewards.push_back(parseComponent((*list)[i], source_name, i));
            const auto& c = rc.rewards.back();
            if (!names.insert(c.name).second) {
                throw RecipeError(source_name + ": rewards[" + std::to_string(i) +
                                  "].name: duplicate component name \"" + c.name +
                                  "\" (give one of them a \"name\")");
            }
            out.push_back(c.resolved);
        }
        rc.resolved["rewards"] = out;
    }
    parseStages(top, rc);
    {
        RecipeReader r = top.object("reverse_reasoning");
        rc.reverse_reasoning.prompt = r.string("prompt", rc.reverse_reasoning.prompt);
        rc.reverse_reasoning.guided_fraction = r.number("guided_fraction", 0, 0, 1);
        rc.reverse_reasoning.leak_phrases = r.stringList("leak_phrases", kDefaultLeakPhrases);
        r.finish();
    }
    {
        RecipeReader a = top.object("algorithm");
        auto& al = rc.algorithm;
        // The methods' own defaults: rgr trains as VeriFree (leave-one-out baseline, token sums
        // per sequence, mean over sequences); rlpr's advantage guard is RLPR's 1e-6.
        const bool rgr = rc.find(ComponentType::Rgr) != nullptr;
        const bool rlpr = rc.find(ComponentType::Rlpr) != nullptr;
        if (rgr) {
            al.advantage = "rloo";
            al.aggregation = "seq_sum";
        }
        if (rlpr) al.std_eps = 1e-6;
        al.advantage = a.choice("advantage", al.advantage, {"grpo", "dr_grpo", "rloo"});
        al.loss = a.choice("loss", al.loss, {"ppo_clip"});
        al.aggregation = a.choice("aggregation", al.aggregation,
                                  {"token_mean", "seq_mean", "seq_sum", "dr_grpo"});
        al.kl_reference = a.choice("kl_reference", al.kl_reference, {"initial", "proxy"});
        al.clip_eps = a.number("clip_eps", al.clip_eps, 0, kUnbounded);
        al.kl_coef = a.number("kl_coef", al.kl_coef, 0, kUnbounded);
        al.lr = a.number("lr", al.lr, 0, kUnbounded);
        al.weight_decay = a.number("weight_decay", al.weight_decay, 0, kUnbounded);
        al.max_grad_norm = a.number("max_grad_norm", al.max_grad_norm, 0, kUnbounded);
        al.std_eps = a.number("std_eps", al.std_eps, 0, kUnbounded);
        al.mu = a.integer("mu", al.mu, 1, kUnboundedInt);
        al.prompts_per_step = a.integer("prompts_per_step", al.prompts_per_step, 1, kUnboundedInt);
        int64_t stage_steps = 0;
        for (const auto& st : rc.stages) stage_steps += st.steps;
        al.steps = a.integer("steps", rc.stages.empty() ? al.steps : stage_steps, 1, kUnboundedInt);
        if (!rc.stages.empty() && al.steps != stage_steps)
            a.fail("steps", "the stages add up to " + std::to_string(stage_steps) + " steps, got " +
                                std::to_string(al.steps) + " (leave it out with stages)");
        al.warmup_steps = a.integer("warmup_steps", al.warmup_steps, 0, kUnboundedInt);
        al.clip_eps_high = a.number("clip_eps_high", al.clip_eps_high, 0, kUnbounded);
        al.min_lr_ratio = a.number("min_lr_ratio", al.min_lr_ratio, 0, 1);
        al.lr_schedule = a.choice("lr_schedule", al.lr_schedule, {"constant", "cosine", "linear"});
        al.micro_batch = a.integer("micro_batch", al.micro_batch, 1, kUnboundedInt);
        al.checkpoint_every = a.integer("checkpoint_every", al.checkpoint_every, 0, kUnboundedInt);
        al.keep_checkpoints = a.integer("keep_checkpoints", al.keep_checkpoints, 0, kUnboundedInt);
        al.gradient_checkpointing = a.boolean("gradient_checkpointing", al.gradient_checkpointing);
        al.optimizer_moments =
            a.choice("optimizer_moments", al.optimizer_moments, {"fp32", "bf16"});
        al.seed = static_cast<uint64_t>(
            a.integer("seed", static_cast<int64_t>(al.seed), 0, kUnboundedInt));
        a.finish();
        if (al.kl_reference == "proxy" && !rc.find(ComponentType::Nover))
            throw RecipeError(source_name +
                              ": algorithm.kl_reference: \"proxy\" needs a nover component");
        if (rgr && al.advantage == "grpo")
            rc.warnings.push_back(
                "algorithm.advantage: \"grpo\" with an rgr reward; VeriFree uses rloo (the "
                "leave-one-out baseline), the rgr default");
        if (rgr && al.aggregation == "token_mean")
            rc.warnings.push_back(
                "algorithm.aggregation: \"token_mean\" with an rgr reward; VeriFree sums the "
                "tokens of each sequence (seq_sum, the rgr default)");
    }
    {
        RecipeReader e = top.object("eval");
        rc.eval.every = e.integer("every", rc.eval.every, 0, kUnboundedInt);
        rc.eval.metric = e.choice("metric", rc.eval.metric, {"exact_match"});
        rc.eval.max_prompts = e.integer("max_prompts", rc.eval.max_prompts, 0, kUnboundedInt);
        rc.eval.at_start = e.boolean("at_start", rc.eval.at_start);
        e.finish();
    }
    {
        RecipeReader a = top.object("alarms");
        rc.alarms = readAlarmSection(a);
    }
    top.raw("warnings");  // a resolved recipe's own warnings: recomputed below, never read
    top.finish();
    if (!rc.warnings.empty()) rc.resolved["warnings"] = rc.warnings;
    return rc;
}

Recipe loadRecipeFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw RecipeError(path + ": cannot open the recipe file");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // Byte offset -> line:column, so the user can find the typo.
        const size_t at = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at; ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw RecipeError(path + ":" + std::to_string(line) + ":" + std::to_string(col) +
                          ": invalid JSON (" + e.what() + ")");
    }
    return parseRecipe(j, path);
}

std::string recipeKind(const Recipe& r) {
    for (const auto& c : r.rewards)
        if (c.type != ComponentType::Format && c.type != ComponentType::ExactMatch)
            return componentTypeName(c.type);
    return r.rewards.empty() ? "format" : componentTypeName(r.rewards.front().type);
}

}  // namespace reflab::reward
