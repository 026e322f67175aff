public enum AutoHomeVersion {
    public static let string = "0.1.0"
}
