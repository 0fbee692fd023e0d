// A valid Qt plugin for some other application.
#include <QObject>
#include <QtPlugin>

class OtherInterface {
public:
    virtual ~OtherInterface() = default;
    virtual int answer() const = 0;
};
Q_DECLARE_INTERFACE(OtherInterface, "org.example.Other/1")

class WrongInterfacePlugin : public QObject, public OtherInterface {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.example.Other/1" FILE "plugin.json")
    Q_INTERFACES(OtherInterface)
public:
    int answer() const override { return 42; }
};

#include "WrongInterfacePlugin.moc"
