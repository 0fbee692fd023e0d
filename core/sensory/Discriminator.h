#pragma once
// OneModel's sensory discriminator γ(word, modality): the same word heard, read or seen
// becomes a different label, so one output layer can tell the senses apart.
//   none    the word itself;
//   concat  word + modality ("skyspeech");
//   djb2    the word followed by DJB2(word + modality) mod P in decimal ("sky" + "1234").
// DJB2 is h = 5381, h = h·33 + c per character (Unicode code point), computed as the paper
// does on unbounded integers and then reduced modulo a prime P; with (h·33 + c) mod P at
// every step that is exactly the same number, without big integers. P is given, or the
// first prime above the size of the label dictionary. Torch-free.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace omnilab {

enum class DiscriminatorKind { None, Concat, Djb2 };
DiscriminatorKind discriminatorFromName(const std::string& name); // none | concat | djb2
std::string discriminatorName(DiscriminatorKind kind);

// DJB2 of the UTF-8 text's code points modulo `modulus` (> 0).
uint64_t djb2Mod(const std::string& text, uint64_t modulus);
// DJB2 on unbounded integers, in decimal (what the paper's hashcodes are before the modulo).
std::string djb2Exact(const std::string& text);
// DJB2 with 64-bit wrap-around (what a naive C implementation computes), for comparison.
uint64_t djb2Wrapped(const std::string& text);

bool isPrime(uint64_t n);
uint64_t firstPrimeAbove(uint64_t n);
// A --modulus / "modulus" value: a positive integer (prime or not: the paper's choice is a
// prime, a composite only weakens the spread). Throws Error naming `what` otherwise.
uint64_t parseModulus(const std::string& text, const std::string& what = "modulus");

std::string discriminate(DiscriminatorKind kind, const std::string& word, const std::string& modality, uint64_t modulus);
// One task's labels as its `phoc` head embeds them: A–Z lower-cased when `lowercase`, then
// discriminated with the task's modality.
std::vector<std::string> discriminatedLabels(const std::vector<std::string>& labels, DiscriminatorKind kind, const std::string& modality,
                                             uint64_t modulus, bool lowercase);

// The labels of every task, discriminated with its modality, and back: a code names its
// task and plain label. Codes must be unique across tasks (that is the point); two tasks of
// one modality sharing a word share the code, and the later task is reported.
class SensoryDictionary {
public:
    SensoryDictionary(DiscriminatorKind kind, uint64_t modulus = 0); // 0: first prime above the label count (set by finish())

    void addTask(const std::string& task, const std::string& modality, const std::vector<std::string>& labels);
    // Fixes the modulus (when 0) and computes every code. Throws Error for an empty dictionary.
    void finish();

    DiscriminatorKind kind() const { return kind_; }
    uint64_t modulus() const { return modulus_; }
    const std::vector<std::string>& codes(const std::string& task) const; // in the task's label order
    const std::vector<std::string>& labels(const std::string& task) const;
    std::vector<std::string> tasks() const;
    std::string code(const std::string& task, const std::string& label) const;
    // code -> (task, label); throws Error for a code that is not in the dictionary.
    std::pair<std::string, std::string> decode(const std::string& code) const;
    std::vector<std::string> allCodes() const;
    // Codes shared by two different (task, label) pairs.
    std::vector<std::string> collisions() const;

private:
    struct Task {
        std::string modality;
        std::vector<std::string> labels, codes;
    };
    DiscriminatorKind kind_;
    uint64_t modulus_;
    std::map<std::string, Task> tasks_;
    std::vector<std::string> order_;
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> byCode_;
    bool finished_ = false;
};

} // namespace omnilab
