import CMySQL

/// The client library's authentication plugins (libmariadb loads them from its plugin folder
/// when a server asks for one: caching_sha2_password for MySQL 8's default accounts).
enum MySQLClientPlugins {
    /// MYSQL_CLIENT_AUTHENTICATION_PLUGIN (mysql/client_plugin.h, not part of the shim).
    static let authenticationType: Int32 = 2

    /// Whether the library has, or can load, the authentication plugin `name`.
    static func canAuthenticate(with name: String) -> Bool {
        guard let handle = mysql_init(nil) else { return false }
        defer { mysql_close(handle) }
        return mysql_client_find_plugin(handle, name, authenticationType) != nil
    }
}
