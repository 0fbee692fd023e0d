#pragma once
// Text -> token ids and back, for every format that reads free text (captions, questions,
// reviews): a word vocabulary built from the training texts, or a SentencePiece model (BPE
// or unigram) trained on them and cached, so that a run trains its tokenizer once. Both keep
// the reserved ids <pad> = 0, <unk> = 1, <bos> = 2, <eos> = 3. Torch-free.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/text/Vocabulary.h"

namespace omnilab {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    virtual std::vector<int64_t> encode(const std::string& text) const = 0;
    // Reserved ids are left out of the text.
    virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
    virtual int64_t size() const = 0;
    virtual std::string piece(int64_t id) const = 0;
    virtual std::string kind() const = 0; // "word", "bpe" or "unigram"
    // Every piece in id order (a format's classNames() for generated text).
    std::vector<std::string> pieces() const;
};

std::shared_ptr<Tokenizer> makeWordTokenizer(Vocabulary vocabulary);
// Builds the word vocabulary from `texts` (wordTokens of each).
std::shared_ptr<Tokenizer> buildWordTokenizer(const std::vector<std::string>& texts, int64_t minCount, int64_t maxSize);

struct SentencePieceOptions {
    std::string modelType = "bpe"; // or "unigram"
    int vocabSize = 1000;
    // Where trained models are kept, named by a hash of the texts and settings; "" = the
    // system's temporary folder.
    std::string cacheDir;
};
// Trains (or finds in the cache) a SentencePiece model on `texts` and loads it. Throws Error
// when the module cannot be loaded or training fails (e.g. a vocabulary too small for the
// characters in the texts).
std::shared_ptr<Tokenizer> trainSentencePiece(const std::vector<std::string>& texts, const SentencePieceOptions& options);
std::shared_ptr<Tokenizer> loadSentencePiece(const std::string& modelFile);
// The model file trainSentencePiece() used or made for these texts and options.
std::string sentencePieceModelPath(const std::vector<std::string>& texts, const SentencePieceOptions& options);
// Whether the module is there and loads (tests skip BPE cases when not); `why` says why not.
bool sentencePieceAvailable(std::string* why = nullptr);

} // namespace omnilab
