// POS-tagged sentences from a small probabilistic grammar, written as CoNLL-U with Penn
// tags in XPOS, universal tags in UPOS, and the dependency tree the grammar built (so the
// files are valid for any CoNLL-U reader, not only for tagging).
#include <algorithm>

#include "core/demo/DemoParts.h"
#include "core/demo/DemoRandom.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Token {
    std::string form, lemma, upos, xpos;
    int head = 0; // 1-based index of the head token, 0 for the root
    std::string deprel;
};

// A sentence under construction: tokens are appended in order, heads set when known.
struct Builder {
    std::vector<Token> tokens;
    int add(std::string form, std::string lemma, std::string upos, std::string xpos)
    {
        tokens.push_back({ std::move(form), std::move(lemma), std::move(upos), std::move(xpos), 0, "" });
        return static_cast<int>(tokens.size());
    }
    void attach(int dependent, int head, std::string deprel)
    {
        tokens[static_cast<size_t>(dependent - 1)].head = head;
        tokens[static_cast<size_t>(dependent - 1)].deprel = std::move(deprel);
    }
};

struct Noun {
    const char *singular, *plural;
};
struct Verb {
    const char *base, *third, *past, *gerund, *participle;
    bool transitive;
};

const Noun kNouns[] = { { "cat", "cats" }, { "dog", "dogs" }, { "teacher", "teachers" }, { "child", "children" }, { "book", "books" },
    { "garden", "gardens" }, { "city", "cities" }, { "letter", "letters" }, { "car", "cars" }, { "river", "rivers" },
    { "student", "students" }, { "house", "houses" }, { "song", "songs" }, { "window", "windows" }, { "farmer", "farmers" },
    { "bird", "birds" }, { "table", "tables" }, { "friend", "friends" }, { "box", "boxes" }, { "doctor", "doctors" } };
const Verb kVerbs[] = {
    { "see", "sees", "saw", "seeing", "seen", true },
    { "read", "reads", "read", "reading", "read", true },
    { "find", "finds", "found", "finding", "found", true },
    { "like", "likes", "liked", "liking", "liked", true },
    { "write", "writes", "wrote", "writing", "written", true },
    { "open", "opens", "opened", "opening", "opened", true },
    { "carry", "carries", "carried", "carrying", "carried", true },
    { "watch", "watches", "watched", "watching", "watched", true },
    { "build", "builds", "built", "building", "built", true },
    { "paint", "paints", "painted", "painting", "painted", true },
    { "sleep", "sleeps", "slept", "sleeping", "slept", false },
    { "run", "runs", "ran", "running", "run", false },
    { "walk", "walks", "walked", "walking", "walked", false },
    { "laugh", "laughs", "laughed", "laughing", "laughed", false },
    { "wait", "waits", "waited", "waiting", "waited", false },
    { "arrive", "arrives", "arrived", "arriving", "arrived", false },
    { "sing", "sings", "sang", "singing", "sung", false },
    { "work", "works", "worked", "working", "worked", false },
};
const char* kAdjectives[] = { "small", "old", "happy", "red", "quiet", "new", "tall", "green", "busy", "clever", "dark", "young" };
const char* kAdverbs[] = { "quickly", "slowly", "often", "always", "carefully", "happily", "rarely", "quietly" };
const char* kPrepositions[] = { "in", "on", "near", "under", "with", "behind", "from" };
const char* kNames[] = { "Anna", "Tom", "Maria", "Omar", "Lena", "Paris", "Sam", "Nadia" };
const char* kNumbers[] = { "two", "three", "four", "five", "seven", "12", "20" };

// Person and number of a subject, for agreement.
struct Agreement {
    bool plural = false, first = false; // first: "I" and "you" take the plural verb form
};

class Grammar {
public:
    explicit Grammar(DemoRandom& rng)
        : rng_(rng)
    {
    }

    std::vector<Token> sentence()
    {
        Builder b;
        const int root = clause(b, true);
        b.attach(root, 0, "root");
        if (rng_.chance(0.25)) {
            // ", and / but / or" and a second clause.
            const int comma = b.add(",", ",", "PUNCT", ",");
            const char* cc = rng_.pick({ "and", "but", "or" });
            const int conj = b.add(cc, cc, "CCONJ", "CC");
            const int second = clause(b, false);
            b.attach(second, root, "conj");
            b.attach(comma, second, "punct");
            b.attach(conj, second, "cc");
        }
        const int stop = b.add(".", ".", "PUNCT", ".");
        b.attach(stop, root, "punct");
        auto& first = b.tokens.front();
        if (first.xpos != "NNP" && first.form != "I")
            first.form[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(first.form[0])));
        return b.tokens;
    }

private:
    // A noun phrase; returns its head. `object` picks object pronouns (him, them).
    int nounPhrase(Builder& b, bool object, Agreement& agreement, bool allowPp)
    {
        const double r = rng_.uniform();
        if (r < 0.15) {
            static const char* subjects[] = { "I", "you", "he", "she", "it", "we", "they" };
            static const char* objects[] = { "me", "you", "him", "her", "it", "us", "them" };
            const size_t k = static_cast<size_t>(rng_.below(7));
            agreement.plural = k == 5 || k == 6;
            agreement.first = k <= 1;
            static const char* lemmas[] = { "I", "you", "he", "she", "it", "we", "they" };
            return b.add(object ? objects[k] : subjects[k], lemmas[k], "PRON", "PRP");
        }
        if (r < 0.25) {
            const char* name = rng_.pick(kNames);
            agreement = {};
            return b.add(name, name, "PROPN", "NNP");
        }
        const Noun& noun = rng_.pick(kNouns);
        const bool plural = rng_.chance(0.35);
        agreement = { plural, false };
        std::vector<std::pair<int, std::string>> dependents; // token, relation (head is the noun)
        if (plural && rng_.chance(0.3)) {
            const char* number = rng_.pick(kNumbers);
            dependents.push_back({ b.add(number, number, "NUM", "CD"), "nummod" });
        } else if (rng_.chance(0.15)) {
            static const char* possessives[] = { "my", "your", "his", "her", "our", "their" };
            static const char* lemmas[] = { "my", "your", "he", "she", "we", "they" };
            const size_t k = static_cast<size_t>(rng_.below(6));
            dependents.push_back({ b.add(possessives[k], lemmas[k], "PRON", "PRP$"), "nmod:poss" });
        } else {
            // "a" becomes "an" below (fixArticle), once the next word is known.
            const char* det
                = plural ? rng_.pick({ "the", "these", "those", "some", "many" }) : rng_.pick({ "the", "a", "this", "that", "every" });
            dependents.push_back({ b.add(det, det, "DET", "DT"), "det" });
        }
        const int adjectives = rng_.chance(0.4) ? (rng_.chance(0.2) ? 2 : 1) : 0;
        for (int i = 0; i < adjectives; ++i) {
            const char* adj = rng_.pick(kAdjectives);
            dependents.push_back({ b.add(adj, adj, "ADJ", "JJ"), "amod" });
        }
        const int head = b.add(plural ? noun.plural : noun.singular, noun.singular, "NOUN", plural ? "NNS" : "NN");
        for (const auto& [token, relation] : dependents)
            b.attach(token, head, relation);
        fixArticle(b, head - static_cast<int>(dependents.size()));
        if (allowPp && rng_.chance(0.2)) {
            const int pp = prepositionalPhrase(b);
            b.attach(pp, head, "nmod");
        }
        return head;
    }

    // "a" -> "an" when the next word starts with a vowel.
    static void fixArticle(Builder& b, int det)
    {
        auto& t = b.tokens[static_cast<size_t>(det - 1)];
        if (t.form != "a" || static_cast<size_t>(det) >= b.tokens.size())
            return;
        const char next = b.tokens[static_cast<size_t>(det)].form[0];
        if (std::string("aeiou").find(next) != std::string::npos)
            t.form = "an";
    }

    // IN + noun phrase; returns the noun phrase's head (the preposition hangs on it as "case").
    int prepositionalPhrase(Builder& b)
    {
        const char* prep = rng_.pick(kPrepositions);
        const int in = b.add(prep, prep, "ADP", "IN");
        Agreement ignored;
        const int noun = nounPhrase(b, true, ignored, false);
        b.attach(in, noun, "case");
        return noun;
    }

    // Subject + verb group (+ object) (+ adverb) (+ prepositional phrase); returns the head.
    int clause(Builder& b, bool first)
    {
        Agreement subjectAgreement;
        const int subject = nounPhrase(b, false, subjectAgreement, first);
        const bool third = !subjectAgreement.plural && !subjectAgreement.first;
        const bool beSingular = third || (subjectAgreement.first && b.tokens[static_cast<size_t>(subject - 1)].form == "I");

        if (rng_.chance(0.12)) {
            // Copula: "the dog was very happy" (the adjective is the head, as in UD).
            const bool past = rng_.chance(0.5);
            const char* be = past ? (beSingular ? "was" : "were")
                                  : (b.tokens[static_cast<size_t>(subject - 1)].form == "I" ? "am"
                                          : beSingular                                      ? "is"
                                                                                            : "are");
            const int cop = b.add(be, "be", "AUX", past ? "VBD" : beSingular && std::string(be) != "am" ? "VBZ" : "VBP");
            int adverb = 0;
            if (rng_.chance(0.4))
                adverb = b.add("very", "very", "ADV", "RB");
            const char* adj = rng_.pick(kAdjectives);
            const int head = b.add(adj, adj, "ADJ", "JJ");
            b.attach(subject, head, "nsubj");
            b.attach(cop, head, "cop");
            if (adverb)
                b.attach(adverb, head, "advmod");
            return head;
        }

        const Verb& verb = rng_.pick(kVerbs);
        std::vector<std::pair<int, std::string>> dependents; // attached to the main verb
        dependents.push_back({ subject, "nsubj" });
        int head = 0;
        const size_t form = rng_.weighted({ 0.25, 0.25, 0.12, 0.08, 0.1, 0.1, 0.05, 0.05 });
        const bool negate = rng_.chance(0.12);
        auto addNot = [&] {
            if (negate)
                dependents.push_back({ b.add("not", "not", "PART", "RB"), "advmod" });
        };
        switch (form) {
        case 0: // simple present, "does not" when negated
            if (negate) {
                dependents.push_back({ b.add(third ? "does" : "do", "do", "AUX", third ? "VBZ" : "VBP"), "aux" });
                addNot();
                head = b.add(verb.base, verb.base, "VERB", "VB");
            } else {
                head = third ? b.add(verb.third, verb.base, "VERB", "VBZ") : b.add(verb.base, verb.base, "VERB", "VBP");
            }
            break;
        case 1: // simple past
            if (negate) {
                dependents.push_back({ b.add("did", "do", "AUX", "VBD"), "aux" });
                addNot();
                head = b.add(verb.base, verb.base, "VERB", "VB");
            } else {
                head = b.add(verb.past, verb.base, "VERB", "VBD");
            }
            break;
        case 2: // present progressive
        case 3: { // past progressive
            const bool past = form == 3;
            const bool isI = b.tokens[static_cast<size_t>(subject - 1)].form == "I";
            const char* be = past ? (beSingular ? "was" : "were") : isI ? "am" : beSingular ? "is" : "are";
            dependents.push_back({ b.add(be, "be", "AUX", past ? "VBD" : (beSingular && !isI) ? "VBZ" : "VBP"), "aux" });
            addNot();
            head = b.add(verb.gerund, verb.base, "VERB", "VBG");
            break;
        }
        case 4: // modal
        case 5: {
            const char* modal = rng_.pick({ "will", "can", "should", "must", "might" });
            dependents.push_back({ b.add(modal, modal, "AUX", "MD"), "aux" });
            addNot();
            head = b.add(verb.base, verb.base, "VERB", "VB");
            break;
        }
        case 6: // present perfect
            dependents.push_back({ b.add(third ? "has" : "have", "have", "AUX", third ? "VBZ" : "VBP"), "aux" });
            addNot();
            head = b.add(verb.participle, verb.base, "VERB", "VBN");
            break;
        default: { // "wants to read": the infinitive is an open clausal complement
            const bool past = rng_.chance(0.5);
            head = b.add(past ? "wanted" : third ? "wants" : "want", "want", "VERB", past ? "VBD" : third ? "VBZ" : "VBP");
            const int to = b.add("to", "to", "PART", "TO");
            const int inf = b.add(verb.base, verb.base, "VERB", "VB");
            b.attach(to, inf, "mark");
            b.attach(inf, head, "xcomp");
            if (verb.transitive) {
                Agreement ignored;
                b.attach(nounPhrase(b, true, ignored, false), inf, "obj");
            }
            for (const auto& [token, relation] : dependents)
                b.attach(token, head, relation);
            return head;
        }
        }
        if (verb.transitive) {
            Agreement ignored;
            dependents.push_back({ nounPhrase(b, true, ignored, true), "obj" });
        }
        if (rng_.chance(0.3)) {
            const char* adverb = rng_.pick(kAdverbs);
            dependents.push_back({ b.add(adverb, adverb, "ADV", "RB"), "advmod" });
        }
        if (rng_.chance(0.35))
            dependents.push_back({ prepositionalPhrase(b), "obl" });
        for (const auto& [token, relation] : dependents)
            b.attach(token, head, relation);
        return head;
    }

    DemoRandom& rng_;
};

std::string textOf(const std::vector<Token>& tokens)
{
    std::string text;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (i > 0 && tokens[i].upos != "PUNCT")
            text += ' ';
        text += tokens[i].form;
    }
    return text;
}

std::string conllu(const std::string& id, const std::vector<Token>& tokens)
{
    std::string out = "# sent_id = " + id + "\n# text = " + textOf(tokens) + "\n";
    for (size_t i = 0; i < tokens.size(); ++i) {
        const auto& t = tokens[i];
        // SpaceAfter=No before punctuation, so the text can be rebuilt from the tokens.
        const bool noSpace = i + 1 < tokens.size() && tokens[i + 1].upos == "PUNCT";
        out += std::to_string(i + 1) + "\t" + t.form + "\t" + t.lemma + "\t" + t.upos + "\t" + t.xpos + "\t_\t" + std::to_string(t.head)
            + "\t" + t.deprel + "\t_\t" + (noSpace ? "SpaceAfter=No" : "_") + "\n";
    }
    return out + "\n";
}

} // namespace

GeneratedParts makeSentences(const PartContext& context)
{
    DemoRandom rng = DemoRandom::forPart(context.seed, "pos-sentences");
    Grammar grammar(rng);
    const int total = context.sizes.sentences;
    const int dev = std::max(1, total / 10), test = std::max(1, total / 10);
    const int train = total - dev - test;
    const fs::path dir = context.root / "conll";
    json counts = json::object();
    int tokens = 0;
    for (const auto& [name, count] : std::vector<std::pair<std::string, int>> { { "train", train }, { "dev", dev }, { "test", test } }) {
        std::string text;
        for (int i = 0; i < count; ++i) {
            const auto sentence = grammar.sentence();
            tokens += static_cast<int>(sentence.size());
            text += conllu(name + "-" + std::to_string(i + 1), sentence);
        }
        writeFile(dir / (name + ".conllu"), text);
        counts[name] = count;
    }
    GeneratedParts out;
    out.parts.push_back(
        { "conll", "conll", "conll", { { "sentences", counts }, { "tokens", tokens }, { "tag_columns", { "upos", "xpos (Penn)" } } } });
    out.summary = std::to_string(total) + " sentences, " + std::to_string(tokens) + " tokens (train " + std::to_string(train) + ", dev "
        + std::to_string(dev) + ", test " + std::to_string(test) + ")";
    return out;
}

} // namespace omnilab::demo
