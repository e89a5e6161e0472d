/// A released version of QUBE's own memory model (`qube.memory_budget`).
///
/// Releases that share formulas share a model: 1.0 covers qube-qml 1.0.0, 1.0.1 and 1.1.0;
/// 1.2 is qube-qml 1.2.0; 1.3 is qube-qml 1.3.0.
public enum ModelVersion: String, Sendable, CaseIterable, Comparable {
    case v1_0 = "1.0"
    case v1_2 = "1.2"
    case v1_3 = "1.3"

    /// The newest model; what `latest` names.
    public static let latest: ModelVersion = .v1_3

    /// The qube-qml releases each model covers, oldest first.
    public var releases: [String] {
        switch self {
        case .v1_0: ["1.0.0", "1.0.1", "1.1.0"]
        case .v1_2: ["1.2.0"]
        case .v1_3: ["1.3.0"]
        }
    }

    /// Reads a model version (`1.0`, `1.2`, `1.3`, `latest`) or a qube-qml release number
    /// (`1.1.0`) that maps to its model.
    /// - Returns: `nil` when the text names neither.
    public static func parse(_ text: String) -> ModelVersion? {
        if text == "latest" { return .latest }
        if let model = ModelVersion(rawValue: text) { return model }
        return allCases.first { $0.releases.contains(text) }
    }

    /// What `parse` accepts, for error messages.
    public static let validSpellings = "1.0, 1.2, 1.3, latest, or a qube-qml release (1.0.0, 1.0.1, 1.1.0, 1.2.0, 1.3.0)"

    public static func < (lhs: ModelVersion, rhs: ModelVersion) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int {
        switch self {
        case .v1_0: 0
        case .v1_2: 1
        case .v1_3: 2
        }
    }
}
