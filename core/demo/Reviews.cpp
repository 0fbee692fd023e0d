// Movie reviews in aclImdb's layout (split/pos|neg/<id>_<rating>.txt, imdb.vocab). The
// sentiment comes from phrase lists, with negations ("not good", "not bad at all"), neutral
// sentences, mixed reviews whose overall tone still follows the rating, and the "<br /><br />"
// paragraph breaks of the real files.
#include <algorithm>
#include <cmath>
#include <map>

#include "core/demo/DemoParts.h"
#include "core/demo/DemoRandom.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Singular subjects only: every predicate below starts with "was" or a verb in the past.
const char* kSubjects[] = { "the movie", "this film", "the plot", "the acting", "the story", "the script", "the soundtrack", "the ending",
    "the cast", "the cinematography", "the dialogue", "the pacing", "the lead actress", "the lead actor", "the villain", "the music",
    "the final scene", "the first half", "the second half", "the humour", "the editing", "the premise", "the special effects",
    "the screenplay", "the director's work" };
const char* kGood[] = { "was brilliant", "was wonderful", "was a joy to watch", "was beautifully done", "felt fresh and honest",
    "was genuinely moving", "was superb", "kept me hooked", "was clever", "was stunning", "was a delight", "was charming",
    "was gripping from the first minute", "felt perfectly judged", "was surprisingly touching", "was smart and witty",
    "stayed with me for days", "was a real treat", "was excellent", "was hilarious", "was heartfelt", "was gorgeous", "was top notch",
    "was wonderfully acted" };
const char* kBad[] = { "was a waste of time", "was painfully dull", "made no sense", "was awful", "dragged on forever",
    "felt cheap and lazy", "was badly written", "was boring", "was a mess", "was predictable", "was clumsy", "was embarrassing",
    "felt forced", "was tedious", "was a letdown", "was lifeless", "was ridiculous", "fell completely flat", "was incoherent",
    "was shallow", "was annoying", "was forgettable", "was poorly edited", "was laughably bad" };
const char* kNotBad[] = { "was not bad at all", "was not boring for a second", "was never dull", "did not disappoint",
    "was not as bad as people say", "did not feel long at all", "could not have been better" };
const char* kNotGood[] = { "was not good", "was not funny at all", "did not work", "was not worth the ticket", "never came together",
    "was not very convincing", "did not make me laugh once", "could not hold my attention" };
const char* kStrongGood[] = { "This is a masterpiece.", "One of the best films I have ever seen.", "An absolute must see!",
    "I would watch it again tomorrow.", "It deserves every award it won.", "Pure magic from start to finish." };
const char* kStrongBad[] = { "This is the worst movie I have ever seen.", "Avoid it at all costs.", "I want those two hours back.",
    "A complete disaster from start to finish.", "Even the trailer was better.", "Nothing about it works." };
const char* kRecommend[] = { "I would recommend it to anyone.", "Highly recommended.", "Go and see it.", "My family loved it too.",
    "Worth every minute.", "I will buy it on DVD." };
const char* kDiscourage[] = { "I would not recommend it.", "Skip this one.", "Do not waste your money.", "I almost walked out.",
    "Watch something else instead.", "I fell asleep halfway through." };
const char* kNeutral[] = { "I watched it on a Sunday afternoon with my brother.", "It is about two hours long.",
    "The story is set in a small town.", "I saw it at the cinema last week.", "It is based on a novel I have not read.",
    "The film was released in the spring.", "My friend picked it.", "It follows a family over one summer.",
    "It was shown on television last night.", "The director also wrote the screenplay.", "I rented it from the library.",
    "Most of it was filmed in Canada.", "It is in black and white.", "There is a sequel as well." };
const char* kGenres[]
    = { "comedy", "thriller", "drama", "western", "horror film", "musical", "science fiction film", "documentary", "romance", "war film" };
const char* kTopics[] = { "two brothers", "a lost dog", "a small bakery", "a bank robbery", "an old lighthouse", "a football team",
    "a haunted house", "a journey across the desert", "a young doctor", "a family farm", "a jazz singer", "a stolen painting",
    "a village by the sea", "a space station", "a boxing coach" };
const char* kActors[] = { "Anna Berg", "Tom Hale", "Maria Costa", "Omar Said", "Lena Fischer", "Sam Reed", "Nadia Karimi", "Jack Moreno" };
const char* kRoles[]
    = { "the detective", "the mother", "the teacher", "the captain", "a young thief", "an old farmer", "the mayor", "a nurse" };
const char* kGoodWords[] = { "great", "excellent", "good", "strong", "lovely", "fine", "superb", "convincing", "memorable", "terrific" };
const char* kBadWords[] = { "weak", "poor", "terrible", "bad", "flat", "dull", "wooden", "awkward", "silly", "unconvincing" };

std::string capitalisedFirst(std::string s)
{
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
        s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

// One sentence leaning `positive` (or the other way); draws are sequenced one per statement.
std::string opinion(bool positive, DemoRandom& rng)
{
    const std::string subject = rng.pick(kSubjects);
    const bool negated = rng.chance(0.2);
    const std::string predicate
        = positive ? (negated ? rng.pick(kNotBad) : rng.pick(kGood)) : (negated ? rng.pick(kNotGood) : rng.pick(kBad));
    return capitalisedFirst(subject) + " " + predicate + ".";
}

// "The acting was great, but the plot was weak." The second half carries the review's tone.
std::string mixed(bool positive, DemoRandom& rng)
{
    const std::string first = rng.pick(kSubjects);
    std::string second = rng.pick(kSubjects);
    if (second == first)
        second = "everything else";
    const std::string against = positive ? rng.pick(kBadWords) : rng.pick(kGoodWords);
    const std::string with = positive ? rng.pick(kGoodWords) : rng.pick(kBadWords);
    return capitalisedFirst(first) + " was " + against + ", but " + second + " was " + with + ".";
}

std::string review(bool positive, int rating, DemoRandom& rng)
{
    const bool extreme = rating == 1 || rating == 10;
    std::vector<std::string> sentences;
    if (rng.chance(0.5))
        sentences.push_back(rng.pick(kNeutral));
    if (rng.chance(0.4)) {
        const std::string genre = rng.pick(kGenres);
        const std::string topic = rng.pick(kTopics);
        sentences.push_back("It is "
            + std::string(genre[0] == 'a' || genre[0] == 'e' || genre[0] == 'i' || genre[0] == 'o' || genre[0] == 'u' ? "an " : "a ")
            + genre + " about " + topic + ".");
    }
    if (rng.chance(0.35)) {
        const std::string actor = rng.pick(kActors);
        const std::string role = rng.pick(kRoles);
        const std::string verdict = positive ? rng.pick(kGoodWords) : rng.pick(kBadWords);
        sentences.push_back(actor + " plays " + role + " and is " + verdict + " in the part.");
    }
    const int opinions = rng.between(2, 5);
    for (int i = 0; i < opinions; ++i)
        sentences.push_back(rng.chance(0.2) ? mixed(positive, rng) : opinion(positive, rng));
    if (rng.chance(0.3)) {
        // An opinion against the tone: real reviews are rarely all one way.
        const std::string against = opinion(!positive, rng);
        const size_t at = static_cast<size_t>(rng.below(sentences.size() + 1));
        sentences.insert(sentences.begin() + static_cast<long>(at), against);
    }
    if (rng.chance(0.4))
        sentences.push_back(rng.pick(kNeutral));
    if (extreme || rng.chance(0.3))
        sentences.push_back(positive ? rng.pick(kStrongGood) : rng.pick(kStrongBad));
    sentences.push_back(positive ? rng.pick(kRecommend) : rng.pick(kDiscourage));
    if (rng.chance(0.15)) // as many real reviews end
        sentences.push_back("I give it " + std::to_string(rating) + " out of 10.");
    // Paragraph breaks as in the real files, between some sentences of some reviews.
    const bool paragraphs = rng.chance(0.3);
    std::string text;
    for (size_t i = 0; i < sentences.size(); ++i) {
        if (i > 0)
            text += paragraphs && rng.chance(0.3) ? "<br /><br />" : " ";
        text += sentences[i];
    }
    return text;
}

// Lower-case words and numbers with their apostrophes, as counted for imdb.vocab.
void countWords(const std::string& text, std::map<std::string, int>& counts)
{
    std::string word;
    auto flush = [&] {
        if (!word.empty())
            ++counts[word];
        word.clear();
    };
    for (char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'')
            word += c;
        else if (c >= 'A' && c <= 'Z')
            word += static_cast<char>(c - 'A' + 'a');
        else
            flush();
    }
    flush();
}

// Word vectors in GloVe's text format for the vocabulary, so the sentiment task can go
// through OneModel's sensory layer (which needs vectors) without a download. They are random
// unit-variance Gaussians: a stand-in with no meaning beyond telling the words apart, not
// trained embeddings. Printed with 4 fixed decimals by hand, whatever the C locale.
std::string randomWordVectors(const std::vector<std::pair<std::string, int>>& vocab, uint64_t seed)
{
    DemoRandom rng = DemoRandom::forPart(seed, "review-vectors");
    std::string out;
    for (const auto& entry : vocab) {
        out += entry.first;
        for (int d = 0; d < 50; ++d) {
            const double v = rng.normal();
            const long long scaled = std::llround(std::abs(v) * 10000.0);
            const std::string fraction = std::to_string(10000 + scaled % 10000).substr(1);
            out += (v < 0 && scaled != 0 ? " -" : " ") + std::to_string(scaled / 10000) + "." + fraction;
        }
        out += "\n";
    }
    return out;
}

} // namespace

GeneratedParts makeReviews(const PartContext& context)
{
    DemoRandom rng = DemoRandom::forPart(context.seed, "reviews");
    const fs::path root = context.root / "aclImdb";
    std::map<std::string, int> wordCounts;
    json counts = json::object();
    const int perFolder = std::max(1, context.sizes.reviews / 4);
    for (const std::string split : { "train", "test" }) {
        for (const std::string label : { "pos", "neg" }) {
            const bool positive = label == "pos";
            for (int id = 0; id < perFolder; ++id) {
                const int rating = positive ? rng.between(7, 10) : rng.between(1, 4);
                const std::string text = review(positive, rating, rng);
                countWords(text, wordCounts);
                // One line without a final newline, like the real files.
                writeFile(root / split / label / (std::to_string(id) + "_" + std::to_string(rating) + ".txt"), text);
            }
            counts[split][label] = perFolder;
        }
    }
    // imdb.vocab: one word per line, most frequent first (ties alphabetically).
    std::vector<std::pair<std::string, int>> vocab(wordCounts.begin(), wordCounts.end());
    std::stable_sort(vocab.begin(), vocab.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string vocabText;
    for (const auto& [word, count] : vocab)
        vocabText += word + "\n";
    writeFile(root / "imdb.vocab", vocabText);
    writeFile(root / "vectors-50d.txt", randomWordVectors(vocab, context.seed));

    GeneratedParts out;
    out.parts.push_back({ "aclImdb", "text-folder", "aclImdb", { { "reviews", counts }, { "vocabulary", vocab.size() } } });
    out.summary = std::to_string(4 * perFolder) + " reviews (train and test, pos and neg, " + std::to_string(perFolder)
        + " each), vocabulary of " + std::to_string(vocab.size()) + " words with random 50-d vectors";
    return out;
}

} // namespace omnilab::demo
