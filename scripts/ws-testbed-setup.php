<?php
// ws-testbed-setup.php: gives one freshly installed test-bed wiki its accounts; run by ws-testbed
// as `MW_CONFIG_FILE=... php ws-testbed-setup.php` with the names and passwords in the environment
// (never in argv, where ps would show them).
// Afterwards these hold: the editor (WS_EDITOR) exists, an administrator (sysop), with bot password
// WS_EDITOR_APP and password WS_EDITOR_PASS; the visitor (WS_VISITOR) exists in no group, with
// bot password WS_EDITOR_APP and password WS_VISITOR_PASS; the sync user (WS_SYNC_USER) is in the bot group and
// the bed's wikisync group (it deletes, restores and moves pages; not sysop), has bot password WS_SYNC_APP with
// WS_SYNC_PASS, the confirmed address WS_SYNC_ADDR, and the options enotifwatchlistpages and
// enotifminoredits on; so is WS_SYNCB_USER, when set, with WS_SYNCB_PASS and WS_SYNCB_ADDR (a
// second syncing host's account). Any failure exits non-zero with one line on stderr.

use MediaWiki\Auth\AuthManager;
use MediaWiki\MediaWikiServices;

$IP = getenv( 'MW_INSTALL_PATH' ) ?: '/usr/share/mediawiki';
require_once "$IP/maintenance/Maintenance.php";

class WsTestbedSetup extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addDescription( 'Create the test bed accounts (see the environment variables in the source).' );
	}

	private function env( string $name ): string {
		$v = getenv( $name );
		if ( $v === false || $v === '' ) {
			$this->fatalError( "ws-testbed-setup: $name: not set" );
		}
		return $v;
	}

	private function makeUser( string $name, string $password ): User {
		$services = MediaWikiServices::getInstance();
		$user = $services->getUserFactory()->newFromName( $name );
		if ( !$user ) {
			$this->fatalError( "ws-testbed-setup: $name: invalid user name" );
		}
		if ( $user->idForName() === 0 ) {
			$status = $services->getAuthManager()->autoCreateUser(
				$user, AuthManager::AUTOCREATE_SOURCE_MAINT, false );
			if ( !$status->isGood() ) {
				$this->fatalError( "ws-testbed-setup: $name: cannot create: " .
					$status->getMessage( false, false, 'en' )->text() );
			}
		}
		$status = $user->changeAuthenticationData( [
			'username' => $name, 'password' => $password, 'retype' => $password ] );
		if ( !$status->isGood() ) {
			$this->fatalError( "ws-testbed-setup: $name: cannot set password: " .
				$status->getMessage( false, false, 'en' )->text() );
		}
		return $user;
	}

	private function botPassword( User $user, string $app, string $password, array $grants ): void {
		$services = MediaWikiServices::getInstance();
		$bp = BotPassword::newUnsaved( [
			'user' => $user, 'appId' => $app, 'grants' => $grants ] );
		if ( !$bp ) {
			$this->fatalError( "ws-testbed-setup: {$user->getName()}@$app: cannot make bot password" );
		}
		$status = $bp->save( 'insert', $services->getPasswordFactory()->newFromPlaintext( $password ) );
		if ( !$status->isGood() ) {
			$this->fatalError( "ws-testbed-setup: {$user->getName()}@$app: cannot save bot password" );
		}
	}

	private function syncUser( string $name, string $app, string $pass, string $addr, string $pw ) {
		$services = MediaWikiServices::getInstance();
		$sync = $this->makeUser( $name, $pw );
		$services->getUserGroupManager()->addUserToGroup( $sync, 'bot' );
		$services->getUserGroupManager()->addUserToGroup( $sync, 'wikisync' );
		$this->botPassword( $sync, $app, $pass,
			[ 'basic', 'highvolume', 'editpage', 'createeditmovepage', 'delete', 'editmywatchlist',
				'viewmywatchlist', 'privateinfo', 'uploadfile', 'uploadeditmovefile' ] );
		$sync->setEmail( $addr );
		// confirmEmail() does nothing while $wgEmailAuthentication is off: set the stamp itself.
		$sync->setEmailAuthenticationTimestamp( wfTimestampNow() );
		$options = $services->getUserOptionsManager();
		$options->setOption( $sync, 'enotifwatchlistpages', 1 );
		$options->setOption( $sync, 'enotifminoredits', 1 );
		$sync->saveSettings();
	}

	public function execute() {
		$services = MediaWikiServices::getInstance();
		$rand = static function () {
			return bin2hex( random_bytes( 16 ) );
		};

		$editor = $this->makeUser( $this->env( 'WS_EDITOR' ), $rand() );
		$this->botPassword( $editor, $this->env( 'WS_EDITOR_APP' ), $this->env( 'WS_EDITOR_PASS' ),
			[ 'basic', 'editpage', 'createeditmovepage', 'delete', 'editmywatchlist',
				'viewmywatchlist', 'uploadfile', 'uploadeditmovefile', 'protect' ] );
		$services->getUserGroupManager()->addUserToGroup( $editor, 'sysop' );

		// a plain user, in no group: what an untrusted editor can do
		$visitor = $this->makeUser( $this->env( 'WS_VISITOR' ), $rand() );
		$this->botPassword( $visitor, $this->env( 'WS_EDITOR_APP' ), $this->env( 'WS_VISITOR_PASS' ),
			[ 'basic', 'editpage', 'createeditmovepage' ] );

		$this->syncUser( $this->env( 'WS_SYNC_USER' ), $this->env( 'WS_SYNC_APP' ),
			$this->env( 'WS_SYNC_PASS' ), $this->env( 'WS_SYNC_ADDR' ), $rand() );
		// a second syncing host's account, when the bed has one
		if ( getenv( 'WS_SYNCB_USER' ) ) {
			$this->syncUser( $this->env( 'WS_SYNCB_USER' ), $this->env( 'WS_SYNC_APP' ),
				$this->env( 'WS_SYNCB_PASS' ), $this->env( 'WS_SYNCB_ADDR' ), $rand() );
		}
	}
}

$maintClass = WsTestbedSetup::class;
require_once RUN_MAINTENANCE_IF_MAIN;
