use super::*;

/// TLS as production configures it, against the servers' TLS listeners
/// (certificates from the CA `scripts/services.sh` makes): libpq's
/// `sslmode`/`sslrootcert`/`sslcert`/`sslkey`, the system trust store, the
/// MongoDB driver's `tls`/`tlsCAFile`/`tlsCertificateKeyFile`; a wrong CA or
/// host name fails with one sentence naming the server.
#[test]
fn tls_as_production_configures_it() {
    let _serial = serial();
    let (Some(pg), Some(mongo), Some(pg_tls), Some(mongo_tls), Some(tls_dir)) = (
        server("LEDGERSCOPE_POSTGRES_URL"),
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_TLS_URL"),
        server("LEDGERSCOPE_MONGO_TLS_URI"),
        server("LEDGERSCOPE_TLS_DIR"),
    ) else {
        return;
    };
    let tls = |file: &str| format!("{tls_dir}/{file}");
    let (_, schema) = fresh_schema(&pg);
    let scope = |url: &str| format!("{url}&options=-csearch_path%3D{schema}");
    let pg_port = common::port_of(&pg);
    let dir = tempdir();
    let pg_app = |url: String| App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres: Some(url),
    };
    let ok = |app: &App, args: &[&str], system_ca: bool| {
        let mut cmd = app.command(args);
        if system_ca {
            cmd.env("SSL_CERT_FILE", tls("ca.crt"));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    };
    let user = |name: &str| format!("postgres://{name}@localhost:{pg_port}/ledgerscope");
    // verify-full with the CA file, then with the CA in the system store.
    ok(
        &pg_app(scope(&pg_tls)),
        &["emit", "--count", "3", "--seed", "2", "--json"],
        false,
    );
    let system_only = user("ledgerscope:ledgerscope") + "?sslmode=verify-full";
    ok(&pg_app(scope(&system_only)), &["verify", "--json"], true);
    // A client certificate instead of a password.
    let cert = format!(
        "{}?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
        user("ledgerscope_cert"),
        tls("ca.crt"),
        tls("client.crt"),
        tls("client.key")
    );
    ok(&pg_app(scope(&cert)), &["project", "--json"], false);
    // verify-ca does not check the host name; verify-full does.
    let by_ip = |mode: &str, ca: &str| {
        format!(
            "postgres://ledgerscope:ledgerscope@127.0.0.1:{pg_port}/ledgerscope?sslmode={mode}&sslrootcert={}",
            tls(ca)
        )
    };
    ok(
        &pg_app(scope(&by_ip("verify-ca", "ca.crt"))),
        &["project", "--json"],
        false,
    );
    // (the test server's password is its database's name, so no leak check here)
    let secret = "no-password-in-these-urls";
    let within = Duration::from_secs(12);
    let project = ["--connect-timeout-secs", "3", "project", "--json"];
    assert_clear_failure(
        &pg_app(scope(&by_ip("verify-full", "ca.crt"))),
        &project,
        secret,
        within,
        &[&format!("127.0.0.1:{pg_port}"), "host name"],
    );
    let wrong_ca = user("ledgerscope:ledgerscope")
        + &format!("?sslmode=verify-full&sslrootcert={}", tls("other-ca.crt"));
    assert_clear_failure(
        &pg_app(scope(&wrong_ca)),
        &project,
        secret,
        within,
        &[&format!("localhost:{pg_port}"), "CA"],
    );
    // MongoDB: the driver's options, a wrong CA, a wrong host, the system store.
    let mongo_app = |uri: &str| App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((uri.to_string(), unique("ls_tls"))),
        postgres: None,
    };
    let good = mongo_app(&mongo_tls);
    ok(
        &good,
        &["emit", "--count", "2", "--seed", "3", "--json"],
        false,
    );
    let mongo_port = common::port_of(&mongo_tls);
    let emit = [
        "--connect-timeout-secs",
        "3",
        "emit",
        "--count",
        "1",
        "--json",
    ];
    let other_ca = mongo_tls.replace(&tls("ca.crt"), &tls("other-ca.crt"));
    assert_clear_failure(
        &mongo_app(&other_ca),
        &emit,
        secret,
        within,
        &[&format!("localhost:{mongo_port}"), "CA"],
    );
    let by_ip = mongo_tls.replace("localhost:", "127.0.0.1:");
    assert_clear_failure(
        &mongo_app(&by_ip),
        &emit,
        secret,
        within,
        &[&format!("127.0.0.1:{mongo_port}"), "host name"],
    );
    let system_store = mongo_tls.replace(&format!("tlsCAFile={}&", tls("ca.crt")), "");
    assert!(!system_store.contains("tlsCAFile"), "{system_store}");
    ok(&mongo_app(&system_store), &["status", "--json"], true);
    // One FerretDB behind both listeners: drop through the plain one.
    drop_mongo_db(&mongo, &good.mongo.as_ref().unwrap().1);
}

// ---------------------------------------------------------------- bad addresses

pub(super) fn assert_clear_failure(
    app: &App,
    args: &[&str],
    secret: &str,
    within: Duration,
    expect: &[&str],
) {
    let started = Instant::now();
    let out = app.run(args);
    let elapsed = started.elapsed();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), stderr_of(&out));
    assert_eq!(out.status.code(), Some(2), "exit 2 for {args:?}: {stderr}");
    assert!(elapsed < within, "{args:?} took {elapsed:?}");
    assert!(
        !stderr.contains(secret) && !stdout.contains(secret),
        "password leaked: {stderr}{stdout}"
    );
    let message = stderr.trim();
    assert!(
        !message.is_empty() && message.lines().count() <= 2,
        "one clear sentence: {message}"
    );
    for word in expect {
        assert!(
            message.to_lowercase().contains(&word.to_lowercase()),
            "{message} should mention {word}"
        );
    }
}

#[test]
fn bad_uris_and_credentials_fail_clearly() {
    let _serial = serial();
    let (Some(mongo), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let dir = tempdir();
    let secret = "Sup3rS3cretPw";
    let within = Duration::from_secs(12);
    let with = |mongo: Option<String>, postgres: Option<String>| App {
        data_dir: dir.path().to_path_buf(),
        mongo: mongo.map(|m| (m, unique("ls_bad"))),
        postgres,
    };
    let emit = [
        "--connect-timeout-secs",
        "3",
        "emit",
        "--count",
        "1",
        "--no-project",
        "--json",
    ];
    let status = ["--connect-timeout-secs", "3", "project", "--json"];
    // MongoDB: unparsable, wrong host, not a MongoDB port.
    let app = with(Some(format!("mongodb://bob:{secret}@")), None);
    assert_clear_failure(&app, &emit, secret, within, &["mongodb"]);
    let app = with(
        Some(format!(
            "mongodb://bob:{secret}@no-such-host.invalid:27017/"
        )),
        None,
    );
    assert_clear_failure(
        &app,
        &emit,
        secret,
        within,
        &["mongodb", "no-such-host.invalid"],
    );
    let pg_port = common::port_of(&pg);
    let app = with(
        Some(format!("mongodb://bob:{secret}@127.0.0.1:{pg_port}/")),
        None,
    );
    assert_clear_failure(
        &app,
        &emit,
        secret,
        within,
        &["mongodb", &format!("127.0.0.1:{pg_port}")],
    );
    // PostgreSQL: unparsable, wrong password, wrong host, not a PostgreSQL port.
    let app = with(
        None,
        Some(format!(
            "postgres://bob:{secret}@127.0.0.1:{pg_port}/db?sslmode=sideways"
        )),
    );
    assert_clear_failure(&app, &status, secret, within, &["postgres"]);
    let wrong_password = pg.replacen(":ledgerscope@", &format!(":{secret}@"), 1);
    assert_ne!(wrong_password, pg, "the test expects the services.sh URL");
    let app = with(None, Some(wrong_password));
    assert_clear_failure(&app, &status, secret, within, &["password"]);
    let app = with(
        None,
        Some(format!(
            "postgres://bob:{secret}@no-such-host.invalid:5432/db"
        )),
    );
    assert_clear_failure(&app, &status, secret, within, &["no-such-host.invalid"]);
    let mongo_port = common::port_of(&mongo);
    let app = with(
        None,
        Some(format!("postgres://bob:{secret}@127.0.0.1:{mongo_port}/db")),
    );
    assert_clear_failure(
        &app,
        &status,
        secret,
        within,
        &[&format!("127.0.0.1:{mongo_port}")],
    );
}

/// MongoDB collections in `db` (none for a database never written).
pub(super) fn mongo_collections(uri: &str, db: &str) -> Vec<String> {
    runtime().block_on(async {
        let client = mongodb::Client::with_uri_str(uri).await.unwrap();
        let mut names = client.database(db).list_collection_names().await.unwrap();
        names.sort();
        names
    })
}

/// Tables in a PostgreSQL schema.
pub(super) fn pg_tables(url: &str, schema: &str) -> Vec<String> {
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                &[&schema],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    })
}

/// A command refused for one store (a wrong PostgreSQL password, a database
/// that does not exist) or for its own input (a 121-character name) creates
/// nothing in any store: no MongoDB collection or identity, no table.
#[test]
fn a_refused_command_creates_no_store() {
    let _serial = serial();
    let (Some(mongo), Some(pg)) = (
        server("LEDGERSCOPE_MONGO_URI"),
        server("LEDGERSCOPE_POSTGRES_URL"),
    ) else {
        return;
    };
    let dir = tempdir();
    let wrong_password = pg.replacen(":ledgerscope@", ":not-the-password@", 1);
    let (base, _) = pg.rsplit_once('/').unwrap();
    let missing_database = format!("{base}/no_such_database_{}", unique("x"));
    for (what, postgres) in [
        ("a wrong password", wrong_password),
        ("a database that does not exist", missing_database),
    ] {
        let db = unique("ls_refused");
        let app = App {
            data_dir: dir.path().to_path_buf(),
            mongo: Some((mongo.clone(), db.clone())),
            postgres: Some(postgres),
        };
        let (code, out) = app.json(&["emit", "--count", "1", "--no-project", "--json"]);
        assert_eq!(code, 2, "{what}: {out}");
        assert_eq!(
            mongo_collections(&mongo, &db),
            Vec::<String>::new(),
            "{what}: nothing is created in MongoDB"
        );
    }
    let db = unique("ls_refused");
    let (url, schema) = fresh_schema(&pg);
    let app = App {
        data_dir: dir.path().to_path_buf(),
        mongo: Some((mongo.clone(), db.clone())),
        postgres: Some(url),
    };
    let name = "n".repeat(121);
    let (code, out) = app.json(&["emit", "--name", &name, "--email", "a@b.co", "--json"]);
    assert_eq!(code, 2, "{out}");
    assert!(out["error"].as_str().unwrap().contains("name"), "{out}");
    assert_eq!(mongo_collections(&mongo, &db), Vec::<String>::new());
    assert_eq!(pg_tables(&pg, &schema), Vec::<String>::new(), "no table");
}

/// A PostgreSQL database that answers but holds no read tables is
/// reported as missing by `status` (exit 0), as a data dir without
/// `views.sqlite3` is, and `verify` says so in one sentence (exit 2).
#[test]
fn a_database_without_read_tables_is_reported_missing() {
    let _serial = serial();
    let Some(pg) = server("LEDGERSCOPE_POSTGRES_URL") else {
        return;
    };
    let dir = tempdir();
    let embedded = App {
        data_dir: dir.path().to_path_buf(),
        mongo: None,
        postgres: None,
    };
    let (code, _) = embedded.json(&["emit", "--count", "2", "--no-project", "--json"]);
    assert_eq!(code, 0);
    let (url, schema) = fresh_schema(&pg);
    let app = App {
        postgres: Some(url),
        ..embedded
    };
    let (code, status) = app.json(&["status", "--json"]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(
        (
            &status["read_store"]["missing"],
            &status["read_store"]["reachable"]
        ),
        (&Value::Bool(true), &Value::Bool(false)),
        "{status}"
    );
    let (code, verify) = app.json(&["verify", "--json"]);
    assert_eq!(code, 2, "{verify}");
    assert!(
        verify["error"].as_str().unwrap().contains("no read tables"),
        "{verify}"
    );
    assert_eq!(
        pg_tables(&pg, &schema),
        Vec::<String>::new(),
        "nothing made"
    );
}
