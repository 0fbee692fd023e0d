// Every dataset format reads the generated demo data (make-demo-data --scale tiny) as it
// would read the real dataset: COCO captions and VQA v2 over the shapes-world images, HMDB
// clips with their split files, Speech Commands with its lists, CoNLL-U with Penn tags,
// aclImdb reviews, IAM words.txt and an Arabic TSV; plus the sensory layer over handwriting
// and previews of a video and a handwritten word.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "core/data/Preview.h"
#include "core/api/Registries.h"
#include "tests/support/LoadFormat.h"

using namespace omnilab;
using nlohmann::json;

class TestDemoFormats : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string root_;

    std::string at(const char* relative) const { return root_ + "/" + relative; }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        QProcess p;
        p.start(QStringLiteral(OMNILAB_CLI), {"make-demo-data", "--out", dir_.filePath("demo"), "--scale", "tiny", "--seed", "3"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        root_ = dir_.filePath("demo").toStdString();
    }

    void cocoCaptions()
    {
        auto s = testing::loadFormat("coco-captions", {{"path", at("coco")}, {"test_annotations", "annotations/captions_test2014.json"}, {"image_size", {32, 32}}, {"on_error", "fail"}});
        QCOMPARE(s.train->size(), int64_t(48 * 5));
        QCOMPARE(s.val->size(), int64_t(6));
        QCOMPARE(s.test->size(), int64_t(6));
        Batch b = s.test->batch({0, 1});
        QCOMPARE(b.target.size(1), int64_t(5)); // five captions per image
        const auto words = s.train->classNames();
        QVERIFY(std::find(words.begin(), words.end(), "circle") != words.end() || std::find(words.begin(), words.end(), "square") != words.end());
    }

    void vqa()
    {
        auto s = testing::loadFormat("vqa-v2", {{"path", at("vqa")}, {"images", "../coco"}, {"test_subset", "test2014"}, {"image_size", {32, 32}}, {"on_error", "fail"}});
        QVERIFY(s.train->size() > 100);
        QVERIFY(s.val->size() > 0 && s.test->size() > 0);
        Batch b = s.val->batch({0, 1, 2, 3});
        QCOMPARE(b.target.size(1), int64_t(11));
        QVERIFY(b.inputs.at("question_mask").sum().item<int64_t>() > 8);
        const auto answers = s.train->classNames();
        QVERIFY(std::find(answers.begin(), answers.end(), "yes") != answers.end());
    }

    void hmdbVideos()
    {
        auto s = testing::loadFormat("video-folder", {{"path", at("hmdb")}, {"splits_path", at("hmdb/splits")}, {"frames", 8}, {"frame_size", {32, 32}}, {"on_error", "fail"}, {"validation_fraction", 0}});
        QCOMPARE(s.train->classNames().size(), size_t(8)); // the splits folder is not an action
        QCOMPARE(s.train->size(), int64_t(8));
        QCOMPARE(s.test->size(), int64_t(8));
        Batch b = s.train->batch({0, 1});
        QCOMPARE(b.inputs.at("video").sizes().vec(), (std::vector<int64_t>{2, 8, 3, 32, 32}));
        QVERIFY(b.inputs.at("video").to(torch::kFloat).std().item<float>() > 5); // real pictures, not blank
        DatasetBrowser browser("video-folder", {{"path", at("hmdb")}, {"splits_path", at("hmdb/splits")}, {"frames", 8}, {"frame_size", {32, 32}}});
        PreviewOptions o;
        o.frames = 4;
        SamplePreview p = browser.preview("test", 0, o);
        QCOMPARE(p.kind, std::string("video"));
        QCOMPARE(p.frames.size(), size_t(4));
        QVERIFY(!p.label.empty());
    }

    void speechCommands()
    {
        auto s = testing::loadFormat("speech-commands", {{"path", at("speech_commands")}, {"on_error", "fail"}});
        QCOMPARE(s.train->size(), int64_t(30));
        QCOMPARE(s.val->size(), int64_t(5));
        QCOMPARE(s.test->size(), int64_t(5));
        QCOMPARE(s.train->classNames().size(), size_t(5)); // _background_noise_ is not a word
        Batch b = s.test->batch({0});
        QCOMPARE(b.inputs.at("audio").size(1), int64_t(161)); // 20 ms windows at 16 kHz
        QVERIFY(b.inputs.at("audio").max().item<float>() > -5); // speech, not silence
    }

    void conllAndReviews()
    {
        auto c = testing::loadFormat("conll", {{"path", at("conll")}, {"tag_column", "xpos"}});
        QCOMPARE(c.train->size(), int64_t(120));
        QCOMPARE(c.val->size(), int64_t(15));
        QCOMPARE(c.test->size(), int64_t(15));
        const auto tags = c.train->classNames();
        for (const char* t : {"DT", "NN", "IN"})
            QVERIFY2(std::find(tags.begin(), tags.end(), t) != tags.end(), t);
        auto r = testing::loadFormat("text-folder", {{"path", at("aclImdb")}});
        QCOMPARE(r.train->size() + r.val->size(), int64_t(40));
        QCOMPARE(r.test->size(), int64_t(40));
        QCOMPARE(r.train->classNames(), (std::vector<std::string>{"neg", "pos"}));
    }

    void handwriting()
    {
        auto iam = testing::loadFormat("word-images", {{"path", at("iam/words.txt")}, {"on_error", "fail"}});
        int64_t ok = 0, err = 0; // words.txt marks a few segmentations err: those are left out
        QFile list(QString::fromStdString(at("iam/words.txt")));
        QVERIFY(list.open(QIODevice::ReadOnly));
        for (const QByteArray& line : list.readAll().split('\n'))
            if (!line.startsWith('#') && !line.isEmpty())
                ++(line.split(' ').value(1) == "ok" ? ok : err);
        QVERIFY(err > 0);
        QCOMPARE(iam.train->size() + iam.val->size() + iam.test->size(), ok);
        auto arabic = testing::loadFormat("word-images", {{"path", at("arabic/words.tsv")}, {"on_error", "fail"}});
        QFile manifestFile(QString::fromStdString(at("manifest.json")));
        QVERIFY(manifestFile.open(QIODevice::ReadOnly));
        const json splits = json::parse(manifestFile.readAll().toStdString())["parts"]["arabic"]["counts"]["splits"];
        QCOMPARE(arabic.train->size(), splits["train"].get<int64_t>()); // the TSV's third column
        QCOMPARE(arabic.val->size(), splits["val"].get<int64_t>());
        QCOMPARE(arabic.test->size(), splits["test"].get<int64_t>());
        const auto lexicon = arabic.train->classNames();
        QVERIFY(std::any_of(lexicon.begin(), lexicon.end(), [](const std::string& w) { return static_cast<unsigned char>(w[0]) >= 0xD8; })); // Arabic letters in UTF-8
        auto sensory = testing::loadFormat("sensory", {{"source", {{"format", "word-images"}, {"path", at("arabic/words.tsv")}}}});
        QCOMPARE(sensory.train->batch({0}).inputs.at("sensory").sizes().vec(), (std::vector<int64_t>{1, 3, 300, 600}));
        DatasetBrowser browser("word-images", {{"path", at("iam/words.txt")}});
        SamplePreview p = browser.preview("train", 0, {});
        QCOMPARE(p.kind, std::string("handwriting"));
        QVERIFY(!p.thumbnail.empty());
        QVERIFY(std::find(browser.classNames().begin(), browser.classNames().end(), p.label) != browser.classNames().end());
    }
};

QTEST_GUILESS_MAIN(TestDemoFormats)
#include "test_demo_formats.moc"
