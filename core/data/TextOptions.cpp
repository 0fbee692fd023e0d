#include "core/data/TextOptions.h"

namespace omnilab {

void addTokenizerFields(Schema& s, int64_t maxTokens, int64_t minCount, int64_t bpeVocabulary)
{
    s.field("tokenizer", FieldType::Enum, "word vocabulary, or SentencePiece subwords (bpe, unigram) trained on the training texts")
        .oneOf({"word", "bpe", "unigram"})
        .defaults("word");
    s.field("vocab_size", FieldType::PositiveInteger, "SentencePiece: pieces in the trained model, reserved ids included").defaults(bpeVocabulary).range(8, 1000000);
    s.field("max_tokens", FieldType::PositiveInteger, "longer texts are cut to this many tokens").defaults(maxTokens);
    s.field("min_count", FieldType::PositiveInteger, "word tokenizer: words seen fewer times in training become <unk>").defaults(minCount);
    s.field("max_vocab", FieldType::Integer, "word tokenizer: vocabulary size limit, reserved entries included (0 = none)").defaults(0).range(0, std::nullopt);
    s.field("cache_dir", FieldType::String, "where trained SentencePiece models are kept (\"\" = the run's folder)").defaults("");
}

std::shared_ptr<Tokenizer> makeTokenizer(const nlohmann::json& o, const std::vector<std::string>& texts)
{
    const std::string kind = o.value("tokenizer", "word");
    if (kind == "word")
        return buildWordTokenizer(texts, o.value("min_count", int64_t(1)), o.value("max_vocab", int64_t(0)));
    SentencePieceOptions spm;
    spm.modelType = kind;
    spm.vocabSize = o.value("vocab_size", 1000);
    spm.cacheDir = o.value("cache_dir", "");
    return trainSentencePiece(texts, spm);
}

} // namespace omnilab
