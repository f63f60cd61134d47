/// The version of Ergometer's binaries (`ergo --version`, `ergometer_build_info`).
public enum ErgometerVersion {
    public static let current = "0.3.0"
}
