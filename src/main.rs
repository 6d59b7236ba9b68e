//! The `buuta` binary: thin; parses the command line and hands over.

use buuta::auth::password;
use buuta::config::Settings;
use buuta::db::Db;
use buuta::routes::users::{self, CreateUser};
use buuta::startup::Application;
use buuta::{bootstrap, telemetry};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "buuta",
    version,
    about = "Buuta: dịch vụ bưu chính công ích tiếp nhận và trả hồ sơ tận nhà"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the pages (the default).
    Serve,
    /// Run the database migrations and load reference data, then exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Load data from files (all or nothing).
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Ward centres from a CSV file with columns `ward_code,lat,lon`.
    WardCentres {
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// Zones of a post office from a GeoJSON FeatureCollection (a `name` per feature).
    Zones {
        /// The GeoJSON file.
        file: std::path::PathBuf,
        /// The post office the zones belong to.
        #[arg(long)]
        post_office_id: i64,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long, env = "BUUTA_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        full_name: Option<String>,
        #[arg(long)]
        post_office_id: Option<i64>,
        #[arg(long)]
        agency_id: Option<i64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings),
        Command::Migrate => migrate(&cli.settings),
        Command::User { action } => user(&cli.settings, action),
        Command::Import { what } => import(&cli.settings, what),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let backend = settings.database_url.split("://").next().unwrap_or("").to_owned();
        let bind = settings.bind.clone();
        let app = Application::build(settings).await?;
        let host = bind.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
        let base = format!("http://{host}:{}", app.port());
        println!("Buuta đang chạy tại {base} (cơ sở dữ liệu: {backend})");
        println!("  Tài liệu API: {base}/docs");
        if app.boot.admin_created {
            match &app.boot.generated_admin_password {
                Some(pw) => println!("  Tài khoản quản trị: admin / {pw}  (mật khẩu tạo ngẫu nhiên, chỉ hiện một lần)"),
                None => println!("  Tài khoản quản trị: admin / (mật khẩu từ BUUTA_ADMIN_PASSWORD)"),
            }
        }
        if app.boot.demo_loaded {
            println!("  Dữ liệu mẫu tỉnh Đồng Tháp đã được nạp. Tài khoản mẫu (mật khẩu: {}):", buuta::demo::DEMO_PASSWORD);
            for (username, who, page) in buuta::demo::DEMO_USERS {
                println!("    {username:<9} {base}{page:<10}  {who}");
            }
            println!("  Tra cứu công khai: {base}/track");
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let db = Db::connect(&settings.database_url, 2)?;
    bootstrap::run(&db, settings)?;
    println!("Đã chạy xong migration và nạp dữ liệu danh mục.");
    Ok(())
}

fn user(settings: &Settings, action: UserAction) -> Result<(), String> {
    let UserAction::Create {
        username,
        role,
        password: pw,
        full_name,
        post_office_id,
        agency_id,
    } = action;
    let db = Db::connect(&settings.database_url, 2)?;
    bootstrap::run(&db, settings)?;
    let valid = users::validate(CreateUser {
        full_name: full_name.unwrap_or_else(|| username.clone()),
        username,
        password: pw,
        role,
        post_office_id,
        agency_id,
        phone: None,
    })
    .map_err(|e| {
        let fields: Vec<String> = e
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        format!("{} ({})", e.detail, fields.join("; "))
    })?;
    let mut new = valid.new;
    new.password_hash = password::hash(&valid.password)?;
    let created = db
        .write_blocking(|c| users::insert(c, &new))
        .map_err(|e| e.detail)?;
    println!(
        "Đã tạo người dùng {} (id {}, vai trò {})",
        created.username, created.id, created.role
    );
    Ok(())
}

fn import(settings: &Settings, what: ImportWhat) -> Result<(), String> {
    let read = |file: &std::path::Path| {
        std::fs::read_to_string(file).map_err(|e| format!("không đọc được {}: {e}", file.display()))
    };
    let db = Db::connect(&settings.database_url, 2)?;
    bootstrap::run(&db, settings)?;
    match what {
        ImportWhat::WardCentres { file } => {
            let rows =
                buuta::import::parse_ward_centres(&read(&file)?).map_err(|errs| errs.join("\n"))?;
            let n = buuta::import::apply_ward_centres(&db, &rows)?;
            println!("Đã cập nhật tâm của {n} xã/phường.");
        }
        ImportWhat::Zones {
            file,
            post_office_id,
        } => {
            let n = buuta::import::import_zones(&db, post_office_id, &read(&file)?)?;
            println!("Đã nạp {n} khu vực cho bưu cục {post_office_id}.");
        }
    }
    Ok(())
}
