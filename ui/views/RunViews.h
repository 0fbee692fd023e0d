#pragma once
// The run views by capability: each view of the workbench registers for a capability
// (core/api/Capability.h) it can draw, and a run opens in the first view registered for a
// capability its body or heads declare. The workbench never asks which model family a run
// is: a plugin body that declares "attention" opens in the Query and Attention views as
// OmniNet does.
#include <functional>
#include <string>
#include <vector>

#include <QString>
#include <QStringList>

namespace omnilab {

struct RunView {
    QString capability;            // what the view draws
    QString title;                 // how messages name it ("Kernel sharing")
    bool openWhenFinished = false; // opens by itself when a run trained in the workbench finishes
    std::function<void(const QString& runDir)> open;
};

class RunViewRegistry {
public:
    // Throws std::invalid_argument for an empty capability or no open function.
    void add(RunView view);
    // The views for `capabilities`, in the order they were registered.
    std::vector<const RunView*> viewsFor(const std::vector<std::string>& capabilities) const;
    // The first of them, or nullptr when no view draws any of them.
    const RunView* firstFor(const std::vector<std::string>& capabilities) const;
    // Every capability some view draws, once each, in registration order (for messages).
    QStringList capabilities() const;

private:
    std::vector<RunView> views_;
};

} // namespace omnilab
