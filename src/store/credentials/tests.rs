use std::collections::HashMap;

use super::*;

fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn target(url: &str) -> PgTarget {
    PgTarget {
        url: Some(url.to_string()),
        ..PgTarget::default()
    }
}

fn settings(resolved: &ResolvedPg) -> BTreeMap<String, String> {
    parse_key_values(&resolved.conninfo)
        .unwrap()
        .into_iter()
        .collect()
}

fn pgpass(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("pgpass");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

#[test]
fn urls_and_key_value_strings_read_as_libpq_reads_them() {
    assert_eq!(
        parse_conninfo("postgresql://al%40x:p%3Aw@[::1]:6000,h2/my%20db?sslmode=require&ssl=true")
            .unwrap(),
        vec![
            ("user".into(), "al@x".into()),
            ("password".into(), "p:w".into()),
            ("host".into(), "::1,h2".into()),
            ("port".into(), "6000,5432".into()),
            ("dbname".into(), "my db".into()),
            ("sslmode".into(), "require".into()),
            ("sslmode".into(), "require".into()),
        ]
    );
    assert_eq!(
        parse_conninfo("postgres:///ledgerscope").unwrap(),
        vec![("dbname".to_string(), "ledgerscope".to_string())]
    );
    assert_eq!(
        parse_conninfo("postgres://%2Fvar%2Frun%2Fpostgresql/db").unwrap()[0],
        ("host".to_string(), "/var/run/postgresql".to_string())
    );
    assert_eq!(
        parse_conninfo("host=h password='it\\'s a secret' service = s").unwrap(),
        vec![
            ("host".into(), "h".into()),
            ("password".into(), "it's a secret".into()),
            ("service".into(), "s".into()),
        ]
    );
    assert!(parse_conninfo("host='h").is_err());
}

#[test]
fn the_url_wins_then_the_service_then_the_environment_then_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("services.conf");
    std::fs::write(
        &services,
        "[sales]\nhost=svc-host\nport=6001\ndbname=svc-db\nuser=svc-user\n",
    )
    .unwrap();
    let env = env_of(&[
        ("PGSERVICEFILE", services.display().to_string()),
        ("PGHOST", "env-host".into()),
        ("PGPORT", "7000".into()),
        ("PGUSER", "env-user".into()),
        ("PGDATABASE", "env-db".into()),
        ("PGAPPNAME", "env-app".into()),
        ("PGSSLMODE", "verify-full".into()),
        ("PGSSLROOTCERT", "/ca.crt".into()),
        ("PGCONNECT_TIMEOUT", "9".into()),
        ("USER", "os-user".into()),
    ]);
    let only_env = resolve_postgres(&target("postgres://"), &env).unwrap();
    let s = settings(&only_env);
    assert_eq!(
        (
            &s["host"][..],
            &s["port"][..],
            &s["user"][..],
            &s["dbname"][..]
        ),
        ("env-host", "7000", "env-user", "env-db")
    );
    assert_eq!(
        (
            &s["application_name"][..],
            &s["sslmode"][..],
            &s["sslrootcert"][..],
            &s["connect_timeout"][..]
        ),
        ("env-app", "verify-full", "/ca.crt", "9")
    );
    // The service beats the environment (as in libpq); the URL beats both.
    let with_service = resolve_postgres(&target("postgres:///url-db?service=sales"), &env).unwrap();
    let s = settings(&with_service);
    assert_eq!(
        (
            &s["host"][..],
            &s["port"][..],
            &s["user"][..],
            &s["dbname"][..]
        ),
        ("svc-host", "6001", "svc-user", "url-db")
    );
    assert!(!s.contains_key("service"));
    let flag = PgTarget {
        service: Some("sales".into()),
        ..PgTarget::default()
    };
    assert_eq!(
        settings(&resolve_postgres(&flag, &env).unwrap())["host"],
        "svc-host"
    );
    let pgservice = env_of(&[
        ("PGSERVICEFILE", services.display().to_string()),
        ("PGSERVICE", "sales".into()),
    ]);
    assert_eq!(
        settings(&resolve_postgres(&target("host=mine"), &pgservice).unwrap())["host"],
        "mine"
    );
    assert!(matches!(
        resolve_postgres(&target("service=nope"), &env),
        Err(CredentialError::File(CredentialFileError::NoSuchService(
            ..
        )))
    ));
    // Nothing but the defaults: the OS user, port 5432.
    let bare = settings(&resolve_postgres(&target(""), &env_of(&[("USER", "me".into())])).unwrap());
    assert_eq!((&bare["user"][..], &bare["port"][..]), ("me", "5432"));
    assert!(bare.contains_key("host"));
}

#[test]
fn the_password_comes_from_the_url_then_pgpassword_then_the_password_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = pgpass(dir.path(), "h:5432:db:u:from-file\n");
    let full = [
        ("PGPASSWORD", "from-env".to_string()),
        ("PGPASSFILE", file.display().to_string()),
    ];
    let url = "postgres://u:from-url@h/db";
    let resolved = resolve_postgres(&target(url), &env_of(&full)).unwrap();
    assert_eq!(resolved.password, Some(Secret::new("from-url")));
    assert!(
        !resolved.conninfo.contains("from-url"),
        "{}",
        resolved.conninfo
    );
    let resolved = resolve_postgres(&target("postgres://u@h/db"), &env_of(&full)).unwrap();
    assert_eq!(resolved.password, Some(Secret::new("from-env")));
    assert_eq!(resolved.password_from.as_deref(), Some("PGPASSWORD"));
    let resolved = resolve_postgres(&target("postgres://u@h/db"), &env_of(&full[1..])).unwrap();
    assert_eq!(resolved.password, Some(Secret::new("from-file")));
    // A typed password beats the environment, the URL's beats a typed one.
    let typed = PgTarget {
        url: Some("postgres://u@h/db".into()),
        password: Some(Secret::new("typed")),
        ..PgTarget::default()
    };
    let resolved = resolve_postgres(&typed, &env_of(&full)).unwrap();
    assert_eq!(resolved.password, Some(Secret::new("typed")));
    // The password file matches the whole connection: another db, no password.
    let resolved = resolve_postgres(&target("postgres://u@h/other"), &env_of(&full[1..])).unwrap();
    assert_eq!(resolved.password, None);
    // ~/.pgpass when PGPASSFILE is unset; ignored with a note when others may read it.
    let home = [("HOME", dir.path().display().to_string())];
    std::fs::rename(&file, dir.path().join(".pgpass")).unwrap();
    let resolved = resolve_postgres(&target("postgres://u@h/db"), &env_of(&home)).unwrap();
    assert_eq!(resolved.password, Some(Secret::new("from-file")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join(".pgpass"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let resolved = resolve_postgres(&target("postgres://u@h/db"), &env_of(&home)).unwrap();
        assert_eq!(resolved.password, None);
        assert!(resolved.notes[0].contains("0600"), "{:?}", resolved.notes);
    }
}

#[test]
fn a_password_in_the_service_file_comes_before_pgpassword() {
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("s.conf");
    std::fs::write(&services, "[s]\nhost=h\npassword=from-service\n").unwrap();
    let env = env_of(&[
        ("PGSERVICEFILE", services.display().to_string()),
        ("PGPASSWORD", "from-env".into()),
    ]);
    let resolved = resolve_postgres(&target("service=s user=u"), &env).unwrap();
    assert_eq!(resolved.password, Some(Secret::new("from-service")));
    assert!(!resolved.conninfo.contains("from-service"));
}

#[test]
fn secrets_never_print_and_passwords_leave_remembered_strings() {
    assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    let resolved = ResolvedPg {
        conninfo: String::new(),
        password: Some(Secret::new("hunter2")),
        password_from: None,
        notes: vec![],
    };
    assert!(!format!("{resolved:?}").contains("hunter2"));
    assert_eq!(
        without_password("postgres://u:pw@h:5/db?sslmode=require&password=x"),
        "postgres://u@h:5/db?sslmode=require"
    );
    assert_eq!(
        without_password("mongodb://bob:s3cr@t@h:1/db"),
        "mongodb://bob@h:1/db"
    );
    assert_eq!(without_password("mongodb://h:1/db"), "mongodb://h:1/db");
    assert_eq!(
        without_password("host=h password='a b' dbname=x"),
        "host=h dbname=x"
    );
}

#[test]
fn a_mongodb_password_file_gives_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pw");
    std::fs::write(&path, "s3cret\r\nignored\n").unwrap();
    assert_eq!(read_password_file(&path).unwrap(), Secret::new("s3cret"));
    std::fs::write(&path, "\n").unwrap();
    assert!(matches!(
        read_password_file(&path),
        Err(CredentialError::EmptyPasswordFile(_))
    ));
    assert!(matches!(
        read_password_file(&dir.path().join("none")),
        Err(CredentialError::PasswordFile { .. })
    ));
}
