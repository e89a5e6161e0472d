import QubeMemCLI

@main
enum Main {
    static func main() async {
        await QubeMemCommand.runMain()
    }
}
