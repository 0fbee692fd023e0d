#pragma once
// Runs from the SQLite run store: id, name, status, start, last step, final metrics.
// Reads with its own connection, so it can watch runs another process is writing.
#include <QDockWidget>

class QLabel;
class QTableWidget;

namespace omnilab {

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    explicit RunsDock(QWidget* parent = nullptr);
    void setStoreFile(const QString& file);
    QString storeFile() const { return storeFile_; }
    QTableWidget* table() const { return table_; }

public Q_SLOTS:
    void refresh();

Q_SIGNALS:
    // A run double-clicked: its directory.
    void runActivated(const QString& runDir);

private:
    QString storeFile_;
    QLabel* location_ = nullptr;
    QTableWidget* table_ = nullptr;
};

} // namespace omnilab
